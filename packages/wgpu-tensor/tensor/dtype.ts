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

export { f16BitsToF32, f32ToF16Bits } from "./half.ts";
