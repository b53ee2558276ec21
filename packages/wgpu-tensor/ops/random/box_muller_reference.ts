/**
 * Box–Muller in 32-bit integer arithmetic, so a normal sample has the same bits in JS and on every
 * GPU. WGSL promises only a few ULPs for `log`, `sqrt` and `cos`, and lets compilers fuse `a·b + c`
 * into one rounding, so float Box–Muller differs in the last bits between Dawn/Vulkan, Chromium's
 * SwiftShader and real GPUs. Here every step is an exact integer operation (u32 add, multiply-high,
 * shift, division by a constant); only the last step rounds, to nearest even, into f32 bits.
 *
 * The math, for two u32 words `a` (radius) and `b` (angle):
 * - `u = (⌊a / 2⁹⌋ + ½) · 2⁻²³` ∈ (0, 1), an odd multiple of 2⁻²⁴, so `ln u` is never −∞;
 * - `v = ⌊b / 2⁸⌋ · 2⁻²⁴` ∈ [0, 1), the same 24 bits `rand` uses;
 * - `z₀ = √(−2 ln u) · cos 2πv`, `z₁ = √(−2 ln u) · sin 2πv`.
 * The fixed-point result is within a relative 2⁻²⁶ of that exact formula before the final rounding (box_muller_reference_test.ts checks it exhaustively over `a` and `b`).
 * philox_wgsl.ts holds the WGSL twin of each function below, line for line.
 * @module
 */
import { mulhi32, mullo32 } from "./philox_reference.ts";

/** round(ln(1 + j/64) · 2³²), j = 0…63 (Python `decimal`, 60 digits). */
export const LN_TABLE: readonly number[] = [
  0, 66589974, 132163268, 196750459, 260380768, 323082134, 384881291, 445803834, 505874286, 565116154, 623551984, 681203418, 738091233,
  794235396, 849655098, 904368797, 958394255, 1011748572, 1064448219, 1116509066, 1167946415, 1218775023, 1269009132, 1318662486,
  1367748360, 1416279581, 1464268541, 1511727226, 1558667227, 1605099758, 1651035675, 1696485489, 1741459379, 1785967210, 1830018543,
  1873622647, 1916788510, 1959524856, 2001840147, 2043742599, 2085240191, 2126340670, 2167051565, 2207380193, 2247333665, 2286918897,
  2326142616, 2365011363, 2403531508, 2441709246, 2479550612, 2517061482, 2554247578, 2591114477, 2627667611, 2663912276, 2699853634,
  2735496721, 2770846446, 2805907598, 2840684851, 2875182766, 2909405794, 2943358281,
];
/** round(2³⁷ / (64 + j)): 1 / (1 + j/64) in Q31. Exact to compute: the quotient is never a half. */
export const RECIP_TABLE: readonly number[] = Array.from({ length: 64 }, (_, j) => Math.round(2 ** 37 / (64 + j)));
/** round(1/√((i + ½)/8) · 2³¹), i = 4…15: first guesses of 1/√x for x ∈ [½, 2) (Q31). */
export const RSQRT_TABLE: readonly number[] = [
  0, 0, 0, 0, 2863311531, 2589962729, 2382419202, 2217911575, 2083365155, 1970666148, 1874477404, 1791125178, 1717986918, 1653133683,
  1595110809, 1542797797,
];
/** round(ln 2 · 2³²) */
export const LN2_Q32 = 2977044472;
/** round(2π · 2²⁹) */
export const TWO_PI_Q29 = 3373259426;
/** Terms of −ln(1 − w)/w − 1 = Σ w^k/(k + 1) kept for w ≤ ¼ (the tail is below 2⁻³⁵). */
export const LOG_SERIES_TERMS = 16;
/** round(2³² / (k + 1)), k = 0…16 (exact to compute: never a half). */
export const LOG_SERIES: readonly number[] = Array.from({ length: LOG_SERIES_TERMS + 1 }, (_, k) => Math.round(2 ** 32 / (k + 1)));

/** A positive number `mantissa · 2^exponent` with a u32 mantissa. */
export interface Scaled {
  mantissa: number;
  exponent: number;
}

/**
 * −ln u for u = m · 2⁻²⁴, m odd in [1, 2²⁴). Near u = 1 it sums the series of −ln(1 − w) so that
 * small results keep their relative precision; elsewhere it takes ln m = e·ln 2 + ln(1 + f) with
 * a 64-entry table and a 5-term series for the rest.
 */
export function negLogUnit(m: number): Scaled {
  const g = 16777216 - m;
  if (g <= 4194304) {
    // u ≥ ¾: w = g · 2⁻²⁴ ≤ ¼, −ln(1 − w) = w · (1 + T), T = Σ_{k≥1} w^k/(k + 1) (Horner, Q32)
    const w = g << 8;
    let acc = LOG_SERIES[LOG_SERIES_TERMS];
    for (let k = LOG_SERIES_TERMS - 1; k >= 1; k--) acc = (LOG_SERIES[k] + mulhi32(w, acc)) >>> 0;
    const series = mulhi32(w, acc);
    const shift = Math.clz32(g);
    const half = ((g << shift) >>> 0) >>> 1;
    return { mantissa: (half + mulhi32(half, series)) >>> 0, exponent: -23 - shift };
  }
  // u < ¾: m = 2^e (1 + f), f = (j + δ)/64; ln(1 + f) = ln(1 + j/64) + ln(1 + t), t = δ/(64 + j)
  const e = 31 - Math.clz32(m);
  const f = ((m << (31 - e)) << 1) >>> 0;
  const j = f >>> 26;
  const d = f & 0x3ffffff;
  const t = mulhi32(d << 6, RECIP_TABLE[j]); // Q37, t < 2⁻⁶
  const t2 = mulhi32(t, t) >>> 5;
  const t3 = mulhi32(t2, t) >>> 5;
  const t4 = mulhi32(t3, t) >>> 5;
  const t5 = mulhi32(t4, t) >>> 5;
  const plus = t + Math.floor(t3 / 3) + Math.floor(t5 / 5);
  const minus = (t2 >>> 1) + (t4 >>> 2);
  const lnT = (plus - minus) >>> 0; // Q37
  const lnF = (LN_TABLE[j] + ((lnT + 16) >>> 5)) >>> 0; // Q32
  // −ln u = (24 − e) · ln 2 − ln(1 + f), as a 64-bit Q32 number hi:lo
  const n = 24 - e;
  const productLo = mullo32(n, LN2_Q32);
  const borrow = productLo < lnF ? 1 : 0;
  const lo = (productLo - lnF) >>> 0;
  const hi = (mulhi32(n, LN2_Q32) - borrow) >>> 0;
  if (hi === 0) return { mantissa: lo, exponent: -32 };
  const bits = 32 - Math.clz32(hi);
  return { mantissa: ((hi << (32 - bits)) | (lo >>> bits)) >>> 0, exponent: bits - 32 };
}

/** √(2L) for L = mantissa · 2^exponent, as a Q30 mantissa in [2²⁹·√2, 2³⁰·√2) and an exponent. */
export function sqrtTwice(value: Scaled): Scaled {
  const lead = Math.clz32(value.mantissa);
  let x = (value.mantissa << lead) >>> 0; // x · 2⁻³¹ ∈ [1, 2)
  let power = value.exponent + 1 - lead + 31; // 2L = (x · 2⁻³¹) · 2^power
  if ((power & 1) !== 0) {
    x = x >>> 1; // now x · 2⁻³¹ ∈ [½, 1)
    power += 1;
  }
  // y ≈ 1/√x (Q31) from the table, then three Newton steps y ← y (3 − x y²) / 2
  let y = RSQRT_TABLE[x >>> 28];
  for (let step = 0; step < 3; step++) {
    const y2 = mulhi32(y, y); // Q30
    const xy2 = mulhi32(x, y2); // Q29
    const h = (1610612736 - xy2) >>> 0; // 3 − x y², Q29
    y = (mulhi32(y, h) << 2) >>> 0;
  }
  return { mantissa: mulhi32(x, y), exponent: power / 2 - 30 };
}

/** |sin 2πv| and |cos 2πv| for v = v24 · 2⁻²⁴, with their signs. */
export interface SinCos {
  sin: Scaled;
  cos: Scaled;
  isSinNegative: boolean;
  isCosNegative: boolean;
}

/**
 * sin and cos of 2π · v24 · 2⁻²⁴: octant reduction to φ ∈ [0, π/4], then Taylor series in φ² (Q32).
 * sin keeps 30 significant bits however small φ is (φ · sin φ/φ, with φ normalised); cos ≥ 0.7 is Q31.
 */
export function sinCosTurns(v24: number): SinCos {
  const octant = v24 >>> 21;
  const within = v24 & 0x1fffff;
  const y = (octant & 1) !== 0 ? 0x200000 - within : within;
  // φ = y · TWO_PI_Q29 · 2⁻⁵³ (a 53-bit product hi:lo)
  const hi = mulhi32(y, TWO_PI_Q29);
  const lo = mullo32(y, TWO_PI_Q29);
  const phi = ((hi << 11) | (lo >>> 21)) >>> 0; // φ · 2³²
  let phiMantissa = lo; // hi = 0 only for y ≤ 1, where lo holds all the bits
  let phiExponent = -53;
  if (hi !== 0) {
    const shift = Math.clz32(hi); // ≥ 11: hi < 2²¹
    phiMantissa = ((hi << shift) | (lo >>> (32 - shift))) >>> 0;
    phiExponent = -21 - shift;
  }
  const p2 = mulhi32(phi, phi);
  const p4 = mulhi32(p2, p2);
  const p6 = mulhi32(p4, p2);
  const p8 = mulhi32(p6, p2);
  const p10 = mulhi32(p8, p2);
  const p12 = mulhi32(p10, p2);
  // 1 − sin φ/φ = φ²/3! − φ⁴/5! + φ⁶/7! − φ⁸/9! + φ¹⁰/11!
  const sinDefectPlus = Math.floor(p2 / 6) + Math.floor(p6 / 5040) + Math.floor(p10 / 39916800);
  const sinDefectMinus = Math.floor(p4 / 120) + Math.floor(p8 / 362880);
  const sinRatio = 2147483648 - ((sinDefectPlus - sinDefectMinus) >>> 1); // Q31
  // 1 − cos φ = φ²/2! − φ⁴/4! + φ⁶/6! − φ⁸/8! + φ¹⁰/10! − φ¹²/12!
  const oneMinusCosPlus = (p2 >>> 1) + Math.floor(p6 / 720) + Math.floor(p10 / 3628800);
  const oneMinusCosMinus = Math.floor(p4 / 24) + Math.floor(p8 / 40320) + Math.floor(p12 / 479001600);
  const sin: Scaled = { mantissa: mulhi32(phiMantissa, sinRatio), exponent: phiExponent + 1 };
  const cos: Scaled = { mantissa: 2147483648 - ((oneMinusCosPlus - oneMinusCosMinus) >>> 1), exponent: -31 };
  const isSwapped = ((octant + 1) & 2) !== 0;
  return {
    sin: isSwapped ? cos : sin,
    cos: isSwapped ? sin : cos,
    isSinNegative: octant >= 4,
    isCosNegative: ((octant + 2) & 4) !== 0,
  };
}

/** f32 bits of ±p · 2^exponent (p a u32), rounded to nearest even; 0 gives +0. Normal range only. */
export function toF32Bits(p: number, exponent: number, isNegative: boolean): number {
  if (p === 0) return 0;
  const lead = Math.clz32(p);
  const normalized = (p << lead) >>> 0;
  let mantissa = normalized >>> 8;
  const rest = normalized & 0xff;
  if (rest > 0x80 || (rest === 0x80 && (mantissa & 1) === 1)) mantissa += 1;
  let biased = exponent - lead + 31 + 127;
  if (mantissa === 0x1000000) {
    mantissa = 0x800000;
    biased += 1;
  }
  return ((isNegative ? 0x80000000 : 0) | (biased << 23) | (mantissa & 0x7fffff)) >>> 0;
}

/**
 * Two standard normal samples (as f32 bits) from two u32 words: `[r cos θ, r sin θ]` with
 * r = √(−2 ln u), θ = 2πv and u, v as in the module doc.
 *
 * @example
 * ```ts
 * const [z0, z1] = boxMullerBits(0x6627e8d5, 0xe169c58d);
 * new Float32Array(new Uint32Array([z0, z1]).buffer); // two N(0, 1) samples
 * ```
 */
export function boxMullerBits(a: number, b: number): [number, number] {
  const m = ((a >>> 9) << 1) + 1;
  const radius = sqrtTwice(negLogUnit(m));
  const angle = sinCosTurns(b >>> 8);
  // r · t: the product of the mantissas loses 2³² in mulhi
  const cos = mulhi32(radius.mantissa, angle.cos.mantissa);
  const sin = mulhi32(radius.mantissa, angle.sin.mantissa);
  return [
    toF32Bits(cos, radius.exponent + angle.cos.exponent + 32, angle.isCosNegative),
    toF32Bits(sin, radius.exponent + angle.sin.exponent + 32, angle.isSinNegative),
  ];
}

/** The exact (f64) Box–Muller value the integer version approximates, for tests. */
export function boxMullerExact(a: number, b: number): [number, number] {
  const u = ((a >>> 9) + 0.5) * 2 ** -23;
  const v = (b >>> 8) * 2 ** -24;
  const r = Math.sqrt(-2 * Math.log(u));
  return [r * Math.cos(2 * Math.PI * v), r * Math.sin(2 * Math.PI * v)];
}
