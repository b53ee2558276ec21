/**
 * The natural typed array of a tensor's bytes: a view when alignment allows, a copy otherwise.
 *
 * @module
 */

import { dtypeByteSize, type DType } from "./dtype.ts";
import { IS_LITTLE_ENDIAN, swapBytes } from "./_endian.ts";

/**
 * The typed array {@link typedArrayOf} returns for each dtype. 16-bit floats come as their raw
 * bits (`Uint16Array`), 8-bit floats as raw bytes; use {@link toFloat32Array} for their values.
 */
export interface TypedArrayByDType {
  BOOL: Uint8Array;
  U8: Uint8Array;
  I8: Int8Array;
  F8_E5M2: Uint8Array;
  F8_E4M3: Uint8Array;
  F8_E8M0: Uint8Array;
  I16: Int16Array;
  U16: Uint16Array;
  F16: Uint16Array;
  BF16: Uint16Array;
  I32: Int32Array;
  U32: Uint32Array;
  F32: Float32Array;
  F64: Float64Array;
  I64: BigInt64Array;
  U64: BigUint64Array;
}

/** A typed array of any dtype. */
export type AnyTypedArray = TypedArrayByDType[DType];

interface TypedArrayClass {
  new (length: number): AnyTypedArray;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): AnyTypedArray;
  readonly name: string;
}

const CLASSES: { readonly [D in DType]: TypedArrayClass } = {
  BOOL: Uint8Array,
  U8: Uint8Array,
  I8: Int8Array,
  F8_E5M2: Uint8Array,
  F8_E4M3: Uint8Array,
  F8_E8M0: Uint8Array,
  I16: Int16Array,
  U16: Uint16Array,
  F16: Uint16Array,
  BF16: Uint16Array,
  I32: Int32Array,
  U32: Uint32Array,
  F32: Float32Array,
  F64: Float64Array,
  I64: BigInt64Array,
  U64: BigUint64Array,
};

/**
 * The typed array class that holds a dtype's elements (`Uint16Array` for F16 and BF16 bits).
 *
 * @example
 * ```ts
 * import { typedArrayClassOf } from "@spo/safetensors";
 * console.log(typedArrayClassOf("I64").name); // "BigInt64Array"
 * ```
 */
export function typedArrayClassOf(dtype: DType): TypedArrayClass {
  return CLASSES[dtype];
}

/**
 * The elements of a tensor as the typed array of its dtype ({@link TypedArrayByDType}).
 *
 * The result shares memory with `tensor.data` when the data starts at a multiple of the element
 * size (every file our writer and the reference writer produce). Otherwise, and on big-endian
 * hosts, it is a copy, since typed arrays cannot view unaligned memory.
 *
 * @example
 * ```ts
 * import { typedArrayOf } from "@spo/safetensors";
 * const data = new Uint8Array(new Float32Array([1.5, -2]).buffer);
 * console.log(typedArrayOf({ dtype: "F32", data })); // Float32Array(2) [ 1.5, -2 ]
 * ```
 */
export function typedArrayOf<D extends DType>(tensor: { readonly dtype: D; readonly data: Uint8Array }): TypedArrayByDType[D] {
  const { dtype, data } = tensor;
  const Class = CLASSES[dtype];
  const elementSize = dtypeByteSize(dtype);
  const length = Math.floor(data.byteLength / elementSize);
  const needsSwap = !IS_LITTLE_ENDIAN && elementSize > 1;
  if (!needsSwap && data.byteOffset % elementSize === 0) {
    return new Class(data.buffer, data.byteOffset, length) as TypedArrayByDType[D];
  }
  const source = needsSwap ? swapBytes(data, elementSize) : data;
  const copy = new Class(length);
  new Uint8Array(copy.buffer).set(source.subarray(0, length * elementSize));
  return copy as TypedArrayByDType[D];
}
