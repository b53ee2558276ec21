/**
 * f32 ⇄ f16 on the host, in bulk. Weights of a model loaded in f16 pass through here (1.3 billion
 * values for SD1.5), so the conversion works on the f32 bit patterns with integer operations only:
 * no allocation and no floating-point arithmetic per element.
 * @module
 */

/** Scratch views for the scalar conversions (allocating a view per call made them ~100× slower). */
const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/**
 * f16 bits of one f32 bit pattern, rounded to nearest even (as GPUs do for `f16(x)`): values from
 * 65520 up become ±inf, values at most 2⁻²⁵ become ±0, subnormal halves are rounded correctly,
 * and every NaN becomes a quiet NaN of the same sign (0x7e00 / 0xfe00).
 */
function halfOfBits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const magnitude = bits & 0x7fffffff;
  if (magnitude >= 0x477ff000) {
    // 65520 (the midpoint between 65504 and 2¹⁶) and up, infinities, NaNs
    if (magnitude > 0x7f800000) return sign | 0x7e00;
    return sign | 0x7c00;
  }
  if (magnitude >= 0x38800000) {
    // a normal half (≥ 2⁻¹⁴): round the 13 dropped bits to nearest even; a carry moves into the exponent
    return sign | (((magnitude + 0xfff + ((magnitude >>> 13) & 1)) >>> 13) - 0x1c000);
  }
  if (magnitude < 0x33000000) return sign; // below 2⁻²⁵: rounds to zero (2⁻²⁵ itself ties to zero below)
  // a subnormal half: the significand with its implicit one, shifted so one unit is 2⁻²⁴
  const significand = (magnitude & 0x7fffff) | 0x800000;
  const shift = 126 - (magnitude >>> 23);
  const half = 1 << (shift - 1);
  return sign | ((significand + half - 1 + ((significand >>> shift) & 1)) >>> shift);
}

/** Round-to-nearest-even f32 → f16 bits, as GPUs do for `f16(x)` (a NaN becomes a quiet NaN). */
export function f32ToF16Bits(value: number): number {
  scratchF32[0] = value;
  return halfOfBits(scratchU32[0]!);
}

/** f16 bits → number (exact). */
export function f16BitsToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/**
 * f16 bits of every value of `values` (each first rounded to f32 if it is not a Float32Array),
 * written into `out` (default a new array), rounded to nearest even as {@link f32ToF16Bits}.
 *
 * @example
 * ```ts
 * const halves = float32ToHalfBits(new Float32Array([1, 65504, 1e-8])); // Uint16Array [0x3c00, 0x7bff, 0x0000]
 * ```
 */
export function float32ToHalfBits(values: ArrayLike<number>, out: Uint16Array = new Uint16Array(values.length)): Uint16Array {
  if (out.length < values.length) {
    throw new RangeError(`Cannot convert ${values.length} values to f16 into an array of length ${out.length}`);
  }
  const floats = values instanceof Float32Array ? values : Float32Array.from(values);
  const bits = new Uint32Array(floats.buffer, floats.byteOffset, floats.length);
  for (let i = 0; i < bits.length; i++) out[i] = halfOfBits(bits[i]!);
  return out;
}

let decodeTable: Float32Array | undefined;

/**
 * The f32 value of every f16 bit pattern in `halves` (exact), into `out` (default a new array).
 * A 65,536-entry table (256 KiB, built on first use) makes it one load per element.
 */
export function halfBitsToFloat32(halves: Uint16Array, out: Float32Array = new Float32Array(halves.length)): Float32Array {
  if (out.length < halves.length) {
    throw new RangeError(`Cannot convert ${halves.length} f16 values into an array of length ${out.length}`);
  }
  if (decodeTable === undefined) {
    decodeTable = new Float32Array(0x10000);
    for (let bits = 0; bits < 0x10000; bits++) decodeTable[bits] = f16BitsToF32(bits);
  }
  const table = decodeTable;
  for (let i = 0; i < halves.length; i++) out[i] = table[halves[i]!]!;
  return out;
}
