/**
 * Read and write safetensors files in browsers and Node: whole files in memory, and files,
 * URLs (HTTP range requests) and blobs read lazily, one tensor at a time. Every reader validates
 * the header with the same function and throws only {@link SafetensorsError}.
 *
 * Node-only file functions (`readSafetensorsFile`, `writeSafetensorsFile`) are in
 * `@spo/safetensors/node` (`mod_node.ts`).
 *
 * @example
 * ```ts
 * import { parseSafetensors, serializeSafetensors, toFloat32Array } from "@spo/safetensors";
 * const bytes = serializeSafetensors(
 *   { w: { dtype: "F32", shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) } },
 *   { format: "pt" },
 * );
 * const { tensors, metadata } = parseSafetensors(bytes);
 * console.log(metadata.format, tensors.get("w")!.shape); // pt [ 2, 2 ]
 * console.log(toFloat32Array(tensors.get("w")!)); // Float32Array(4) [ 1, 2, 3, 4 ]
 * ```
 *
 * @module
 */

export { DTYPES, dtypeByteSize, dtypeRank, isDType, type DType } from "./dtype.ts";
export { SafetensorsError, type SafetensorsErrorCode, type SafetensorsErrorOptions } from "./errors.ts";
export {
  decodeHeader,
  HEADER_BYTE_LENGTH_LIMIT,
  parseSafetensorsHeader,
  readHeaderByteLength,
  type SafetensorsHeader,
  type TensorInfo,
} from "./header.ts";
export type { SafeTensor, SafeTensorMap } from "./tensor.ts";
export { parseSafetensors, type ParsedSafetensors } from "./parse.ts";
export {
  layoutSafetensors,
  serializeSafetensors,
  type SafetensorsLayout,
  type TensorInput,
  type TensorsInput,
} from "./serialize.ts";
export { typedArrayClassOf, typedArrayOf, type AnyTypedArray, type TypedArrayByDType } from "./typed_array.ts";
export { toFloat32Array } from "./to_float32.ts";
export {
  DEFAULT_PREFETCH_BYTE_LENGTH,
  openSafetensors,
  SafetensorsReader,
  type ByteSource,
  type OpenOptions,
  type ReadAllOptions,
  type TensorLocation,
} from "./reader.ts";
export { DEFAULT_URL_PREFETCH_BYTE_LENGTH, openSafetensorsUrl, urlByteSource, type UrlOptions } from "./url_reader.ts";
export { blobByteSource, openSafetensorsBlob } from "./blob_reader.ts";
