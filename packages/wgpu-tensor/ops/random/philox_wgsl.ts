/**
 * WGSL twins of philox_reference.ts and box_muller_reference.ts: Philox 4x32-10 and integer
 * Box–Muller. Each function mirrors its JS namesake operation for operation (u32 arithmetic only,
 * until a final bitcast), so GPU and JS agree bit for bit; random_test.ts checks it.
 * @module
 */
import { LN2_Q32, LN_TABLE, LOG_SERIES, LOG_SERIES_TERMS, RECIP_TABLE, RSQRT_TABLE, TWO_PI_Q29 } from "./box_muller_reference.ts";
import { PHILOX_M0, PHILOX_M1, PHILOX_ROUNDS, PHILOX_W0, PHILOX_W1 } from "./philox_reference.ts";

function u32Array(name: string, values: readonly number[]): string {
  return `const ${name} = array<u32, ${values.length}>(${values.map((v) => `${v}u`).join(", ")});`;
}

function hex(value: number): string {
  return `0x${value.toString(16)}u`;
}

/** `mulhi(a, b)`: high word of the 64-bit product, from 16-bit halves (WGSL has no 64-bit ints). */
export const MULHI_WGSL = `
fn mulhi(a: u32, b: u32) -> u32 {
  let a_lo = a & 0xffffu;
  let a_hi = a >> 16u;
  let b_lo = b & 0xffffu;
  let b_hi = b >> 16u;
  let lo_lo = a_lo * b_lo;
  let hi_lo = a_hi * b_lo;
  let lo_hi = a_lo * b_hi;
  let hi_hi = a_hi * b_hi;
  // at most (2^16 - 1) * 2 + (2^16 - 1)^2 = 2^32 - 1: no carry is lost
  let cross = (lo_lo >> 16u) + (hi_lo & 0xffffu) + lo_hi;
  return hi_hi + (hi_lo >> 16u) + (cross >> 16u);
}
`;

/** `philox(counter, key)`: the Philox 4x32 bijection, rounds unrolled by the compiler. */
export function philoxWgsl(rounds = PHILOX_ROUNDS): string {
  return `${MULHI_WGSL}
fn philox(counter: vec4u, key: vec2u) -> vec4u {
  var c = counter;
  var k = key;
  for (var round = 0u; round < ${rounds}u; round++) {
    if (round > 0u) {
      k = k + vec2u(${hex(PHILOX_W0)}, ${hex(PHILOX_W1)});
    }
    let hi0 = mulhi(${hex(PHILOX_M0)}, c.x);
    let lo0 = ${hex(PHILOX_M0)} * c.x;
    let hi1 = mulhi(${hex(PHILOX_M1)}, c.z);
    let lo1 = ${hex(PHILOX_M1)} * c.z;
    c = vec4u(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
  }
  return c;
}
`;
}

/** Horner steps of −ln(1 − w)/w − 1, unrolled: acc = c_k + mulhi(w, acc). */
function logSeriesHorner(): string {
  const lines = [`    var acc = ${LOG_SERIES[LOG_SERIES_TERMS]}u;`];
  for (let k = LOG_SERIES_TERMS - 1; k >= 1; k--) lines.push(`    acc = ${LOG_SERIES[k]}u + mulhi(w, acc);`);
  return lines.join("\n");
}

/**
 * `box_muller(a, b) -> vec2u`: f32 bits of r·cos θ and r·sin θ (see box_muller_reference.ts for the
 * math and the error bound). Needs `MULHI_WGSL`.
 */
export function boxMullerWgsl(): string {
  return `
${u32Array("LN_TABLE", LN_TABLE)}
${u32Array("RECIP_TABLE", RECIP_TABLE)}
${u32Array("RSQRT_TABLE", RSQRT_TABLE)}

struct Scaled { mantissa: u32, exponent: i32 }

// -ln(m * 2^-24) for odd m in [1, 2^24)
fn neg_log_unit(m: u32) -> Scaled {
  let g = 16777216u - m;
  if (g <= 4194304u) {
    let w = g << 8u;
${logSeriesHorner()}
    let series = mulhi(w, acc);
    let shift = countLeadingZeros(g);
    let half = (g << shift) >> 1u;
    return Scaled(half + mulhi(half, series), -23 - i32(shift));
  }
  let e = 31u - countLeadingZeros(m);
  let f = (m << (31u - e)) << 1u;
  let j = f >> 26u;
  let d = f & 0x3ffffffu;
  let t = mulhi(d << 6u, RECIP_TABLE[j]);
  let t2 = mulhi(t, t) >> 5u;
  let t3 = mulhi(t2, t) >> 5u;
  let t4 = mulhi(t3, t) >> 5u;
  let t5 = mulhi(t4, t) >> 5u;
  let plus = t + t3 / 3u + t5 / 5u;
  let minus = (t2 >> 1u) + (t4 >> 2u);
  let ln_t = plus - minus;
  let ln_f = LN_TABLE[j] + ((ln_t + 16u) >> 5u);
  let n = 24u - e;
  let product_lo = n * ${LN2_Q32}u;
  let borrow = select(0u, 1u, product_lo < ln_f);
  let lo = product_lo - ln_f;
  let hi = mulhi(n, ${LN2_Q32}u) - borrow;
  if (hi == 0u) {
    return Scaled(lo, -32);
  }
  let bits = 32u - countLeadingZeros(hi);
  return Scaled((hi << (32u - bits)) | (lo >> bits), i32(bits) - 32);
}

// sqrt(2 L): Q30 mantissa and exponent
fn sqrt_twice(value: Scaled) -> Scaled {
  let lead = countLeadingZeros(value.mantissa);
  var x = value.mantissa << lead;
  var power = value.exponent + 1 - i32(lead) + 31;
  if ((power & 1) != 0) {
    x = x >> 1u;
    power = power + 1;
  }
  var y = RSQRT_TABLE[x >> 28u];
  for (var step = 0u; step < 3u; step++) {
    let y2 = mulhi(y, y);
    let xy2 = mulhi(x, y2);
    let h = 1610612736u - xy2;
    y = mulhi(y, h) << 2u;
  }
  return Scaled(mulhi(x, y), power / 2 - 30);
}

struct SinCos { sin: Scaled, cos: Scaled, is_sin_negative: bool, is_cos_negative: bool }

// sin, cos of 2 pi v24 / 2^24: octant reduction, then Taylor series in phi^2 (Q32)
fn sin_cos_turns(v24: u32) -> SinCos {
  let octant = v24 >> 21u;
  let within = v24 & 0x1fffffu;
  let y = select(within, 0x200000u - within, (octant & 1u) != 0u);
  let hi = mulhi(y, ${TWO_PI_Q29}u);
  let lo = y * ${TWO_PI_Q29}u;
  let phi = (hi << 11u) | (lo >> 21u);
  var phi_mantissa = lo;
  var phi_exponent = -53;
  if (hi != 0u) {
    let shift = countLeadingZeros(hi);
    phi_mantissa = (hi << shift) | (lo >> (32u - shift));
    phi_exponent = -21 - i32(shift);
  }
  let p2 = mulhi(phi, phi);
  let p4 = mulhi(p2, p2);
  let p6 = mulhi(p4, p2);
  let p8 = mulhi(p6, p2);
  let p10 = mulhi(p8, p2);
  let p12 = mulhi(p10, p2);
  let sin_defect_plus = p2 / 6u + p6 / 5040u + p10 / 39916800u;
  let sin_defect_minus = p4 / 120u + p8 / 362880u;
  let sin_ratio = 2147483648u - ((sin_defect_plus - sin_defect_minus) >> 1u);
  let omc_plus = (p2 >> 1u) + p6 / 720u + p10 / 3628800u;
  let omc_minus = p4 / 24u + p8 / 40320u + p12 / 479001600u;
  let sin = Scaled(mulhi(phi_mantissa, sin_ratio), phi_exponent + 1);
  let cos = Scaled(2147483648u - ((omc_plus - omc_minus) >> 1u), -31);
  let is_sin_negative = octant >= 4u;
  let is_cos_negative = ((octant + 2u) & 4u) != 0u;
  if (((octant + 1u) & 2u) != 0u) {
    return SinCos(cos, sin, is_sin_negative, is_cos_negative);
  }
  return SinCos(sin, cos, is_sin_negative, is_cos_negative);
}

// f32 bits of +-p * 2^exponent, rounded to nearest even
fn to_f32_bits(p: u32, exponent: i32, is_negative: bool) -> u32 {
  if (p == 0u) {
    return 0u;
  }
  let lead = countLeadingZeros(p);
  let normalized = p << lead;
  var mantissa = normalized >> 8u;
  let rest = normalized & 0xffu;
  if (rest > 0x80u || (rest == 0x80u && (mantissa & 1u) == 1u)) {
    mantissa = mantissa + 1u;
  }
  var biased = exponent - i32(lead) + 31 + 127;
  if (mantissa == 0x1000000u) {
    mantissa = 0x800000u;
    biased = biased + 1;
  }
  return select(0u, 0x80000000u, is_negative) | (u32(biased) << 23u) | (mantissa & 0x7fffffu);
}

fn box_muller(a: u32, b: u32) -> vec2u {
  let m = ((a >> 9u) << 1u) + 1u;
  let radius = sqrt_twice(neg_log_unit(m));
  let angle = sin_cos_turns(b >> 8u);
  let cos_part = mulhi(radius.mantissa, angle.cos.mantissa);
  let sin_part = mulhi(radius.mantissa, angle.sin.mantissa);
  return vec2u(
    to_f32_bits(cos_part, radius.exponent + angle.cos.exponent + 32, angle.is_cos_negative),
    to_f32_bits(sin_part, radius.exponent + angle.sin.exponent + 32, angle.is_sin_negative),
  );
}
`;
}

/**
 * `f32_to_f16_bits(bits) -> u32`: round-to-nearest-even f32 → f16 in integers, the twin of
 * `f32ToF16Bits` in tensor/dtype.ts (WGSL leaves the rounding of `f16(x)` to the implementation).
 * Finite inputs only.
 */
export const F32_TO_F16_WGSL = `
fn f32_to_f16_bits(bits: u32) -> u32 {
  let sign = (bits >> 16u) & 0x8000u;
  let exponent = i32((bits >> 23u) & 0xffu);
  var mantissa = bits & 0x7fffffu;
  let half_exponent = exponent - 127 + 15;
  if (half_exponent >= 31) {
    return sign | 0x7c00u;
  }
  if (half_exponent <= 0) {
    if (half_exponent < -10) {
      return sign;
    }
    mantissa = mantissa | 0x800000u;
    let shift = u32(14 - half_exponent);
    let half_mantissa = mantissa >> shift;
    let remainder = mantissa & ((1u << shift) - 1u);
    let halfway = 1u << (shift - 1u);
    let round_up = remainder > halfway || (remainder == halfway && (half_mantissa & 1u) == 1u);
    return sign | (half_mantissa + select(0u, 1u, round_up));
  }
  let half_mantissa = mantissa >> 13u;
  let remainder = mantissa & 0x1fffu;
  let round_up = remainder > 0x1000u || (remainder == 0x1000u && (half_mantissa & 1u) == 1u);
  return (sign | (u32(half_exponent) << 10u) | half_mantissa) + select(0u, 1u, round_up);
}
`;
