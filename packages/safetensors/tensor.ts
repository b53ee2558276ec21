/**
 * The tensor type every reader returns and the writer accepts.
 *
 * @module
 */

import type { DType } from "./dtype.ts";

/**
 * A tensor read from a safetensors file: its dtype, its shape, and its raw little-endian bytes.
 *
 * `data` is a view of the bytes (no copy when parsing bytes in memory). Use
 * {@link typedArrayOf} for the elements as their natural typed array, or
 * {@link toFloat32Array} for float32 values.
 */
export interface SafeTensor<D extends DType = DType> {
  /** The element type. */
  dtype: D;
  /** The dimensions, row-major; `[]` is a scalar. */
  shape: number[];
  /** The raw bytes, `product(shape) * dtypeByteSize(dtype)` of them. */
  data: Uint8Array;
}

/** All tensors of a file by name, in the order of their bytes in the file. */
export type SafeTensorMap = Map<string, SafeTensor>;
