/**
 * Converting a tensor of any numeric dtype to float32 values.
 *
 * @module
 */

import type { DType } from "./dtype.ts";
import { SafetensorsError } from "./errors.ts";
import { typedArrayOf } from "./typed_array.ts";
import { decodeTable } from "./_float_decode.ts";

function fromTable(bits: ArrayLike<number>, table: Float32Array): Float32Array<ArrayBuffer> {
  const out = new Float32Array(bits.length);
  for (let index = 0; index < bits.length; index += 1) out[index] = table[bits[index]!]!;
  return out;
}

function fromBFloat16(bits: Uint16Array): Float32Array<ArrayBuffer> {
  // A bfloat16 is the top half of a float32: shifting its bits up 16 places is exact.
  const out = new Float32Array(bits.length);
  const outBits = new Uint32Array(out.buffer);
  for (let index = 0; index < bits.length; index += 1) outBits[index] = bits[index]! << 16;
  return out;
}

function fromBigInts(values: BigInt64Array | BigUint64Array): Float32Array<ArrayBuffer> {
  const out = new Float32Array(values.length);
  for (let index = 0; index < values.length; index += 1) out[index] = Number(values[index]!);
  return out;
}

/**
 * The values of a tensor as a new Float32Array (never a view of the file's bytes).
 *
 * Floats are decoded exactly (F16, BF16, the F8 formats) or rounded to nearest (F64); integers
 * are rounded to the nearest float32 (exact up to 2^24); BOOL gives 0 and 1.
 *
 * @example
 * ```ts
 * import { toFloat32Array } from "@spo/safetensors";
 * const data = new Uint8Array(new Uint16Array([0x3c00, 0xc000]).buffer); // F16 1 and -2
 * console.log(toFloat32Array({ dtype: "F16", data })); // Float32Array(2) [ 1, -2 ]
 * ```
 */
export function toFloat32Array(tensor: {
  readonly dtype: DType;
  readonly data: Uint8Array;
  readonly name?: string;
}): Float32Array<ArrayBuffer> {
  switch (tensor.dtype) {
    case "F32":
      return typedArrayOf({ dtype: "F32", data: tensor.data }).slice();
    case "F16":
      return fromTable(typedArrayOf({ dtype: "F16", data: tensor.data }), decodeTable("F16"));
    case "BF16":
      return fromBFloat16(typedArrayOf({ dtype: "BF16", data: tensor.data }));
    case "F8_E4M3":
    case "F8_E5M2":
    case "F8_E8M0":
      return fromTable(tensor.data, decodeTable(tensor.dtype));
    case "BOOL":
      return Float32Array.from(tensor.data, (byte) => (byte === 0 ? 0 : 1));
    case "I64":
    case "U64":
      return fromBigInts(typedArrayOf({ dtype: tensor.dtype, data: tensor.data }));
    case "F64":
    case "I32":
    case "U32":
    case "I16":
    case "U16":
    case "I8":
    case "U8":
      return Float32Array.from(typedArrayOf({ dtype: tensor.dtype, data: tensor.data }));
    default:
      tensor.dtype satisfies never;
      throw new SafetensorsError("unsupported_dtype", `Cannot convert tensor to float32: dtype ${String(tensor.dtype)} is not supported`, {
        tensorName: tensor.name,
      });
  }
}
