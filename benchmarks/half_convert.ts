// Host f32 → f16 (and back) throughput, the path every weight of a model loaded with dtype "f16"
// takes (issue 18): values/s of `float32ToHalfBits` / `halfBitsToFloat32`, against two peers
// measured in the same run: the element-by-element conversion used before (a Float32Array and a
// Uint32Array allocated per value) and a plain f32 copy (`Float32Array.set`, the floor).
//   node --conditions=@spo/source --import tsx benchmarks/half_convert.ts [--values=16777216] [--repeats=5]
import { float32ToHalfBits, halfBitsToFloat32 } from "@spo/wgpu-tensor";

const args = process.argv.slice(2);
const value = (name: string, fallback: number) => Number(args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback);
const count = value("values", 2 ** 24);
const repeats = value("repeats", 5);

/** The conversion as it was before issue 18's fix (kept here only as the peer). */
function previousF32ToF16Bits(x: number): number {
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  f32[0] = x;
  const bits = u32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    if (halfExponent < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - halfExponent;
    const halfMantissa = mantissa >>> shift;
    const remainder = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    const roundUp = remainder > halfway || (remainder === halfway && (halfMantissa & 1) === 1);
    return sign | (halfMantissa + (roundUp ? 1 : 0));
  }
  const halfMantissa = mantissa >>> 13;
  const remainder = mantissa & 0x1fff;
  const roundUp = remainder > 0x1000 || (remainder === 0x1000 && (halfMantissa & 1) === 1);
  return (sign | (halfExponent << 10) | halfMantissa) + (roundUp ? 1 : 0);
}

// weights-like values: N(0, 0.05²) with a sprinkle of tiny and large ones
const source = new Float32Array(count);
let state = 12345;
const uniform = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
for (let i = 0; i < count; i++) {
  const gaussian = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  source[i] = i % 1000 === 0 ? gaussian * 1e-6 : i % 997 === 0 ? gaussian * 3e4 : gaussian * 0.05;
}
const halves = new Uint16Array(count);
const floats = new Float32Array(count);

function median(run: () => void, times: number): number {
  const ms: number[] = [];
  for (let r = 0; r < times; r++) {
    const start = performance.now();
    run();
    ms.push(performance.now() - start);
  }
  return ms.sort((a, b) => a - b)[Math.floor(ms.length / 2)]!;
}

const previousCount = Math.min(count, 2 ** 22);
const rows: [string, number, number][] = [
  ["float32ToHalfBits (f32 → f16)", count, median(() => float32ToHalfBits(source, halves), repeats)],
  ["halfBitsToFloat32 (f16 → f32)", count, median(() => halfBitsToFloat32(halves, floats), repeats)],
  ["peer: Float32Array.set (f32 copy)", count, median(() => floats.set(source), repeats)],
  [
    "peer: previous per-value f32ToF16Bits",
    previousCount,
    median(
      () => {
        for (let i = 0; i < previousCount; i++) halves[i] = previousF32ToF16Bits(source[i]!);
      },
      Math.min(repeats, 3),
    ),
  ],
];
const rate = (n: number, ms: number) => (n / ms) * 1000;
const ours = rate(rows[0]![1], rows[0]![2]);
console.log(`${count.toLocaleString("en")} values, median of ${repeats}; node ${process.version}`);
for (const [name, n, ms] of rows) {
  const perSecond = rate(n, ms);
  console.log(
    `${name.padEnd(40)} ${(perSecond / 1e6).toFixed(1).padStart(8)} M values/s  (f32→f16 is ×${(ours / perSecond).toFixed(2)} this)`,
  );
}
const sd15Values = 1.31e9;
console.log(`SD1.5 (${sd15Values / 1e9} B values) in f16: ${(sd15Values / ours).toFixed(1)} s of conversion at this rate`);
