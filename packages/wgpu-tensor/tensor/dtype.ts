/** Element types a tensor can hold. `f16` needs the `shader-f16` device feature. */
export type DType = "f32" | "f16" | "i32" | "u32";

/** The typed array that `toArray()` returns for each dtype (`f16` is widened to f32). */
export type ArrayFor<D extends DType> = D extends "i32" ? Int32Array : D extends "u32" ? Uint32Array : Float32Array;

export type TypedArray = Float32Array | Int32Array | Uint32Array | Uint16Array;

/** Bytes one element occupies in a GPU buffer. */
export function bytesPerElement(dtype: DType): number {
  return dtype === "f16" ? 2 : 4;
}

/** The WGSL scalar type used for a dtype in storage buffers. */
export function wgslType(dtype: DType): "f32" | "f16" | "i32" | "u32" {
  return dtype;
}

export function isFloat(dtype: DType): boolean {
  return dtype === "f32" || dtype === "f16";
}

/** Round-to-nearest-even f32 → f16 bits, as GPUs do for `f16(x)`. */
export function f32ToF16Bits(value: number): number {
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  f32[0] = value;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0); // inf / nan
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00; // overflow to inf
  if (halfExponent <= 0) {
    // subnormal half (or zero): shift the implicit leading one in, then round to nearest even
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
  // a carry out of the mantissa correctly bumps the exponent (and may give inf)
  return (sign | (halfExponent << 10) | halfMantissa) + (roundUp ? 1 : 0);
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
