/**
 * Parsing a whole safetensors file held in memory.
 *
 * @module
 */

import { parseSafetensorsHeader } from "./header.ts";
import type { SafeTensorMap } from "./tensor.ts";

/** The contents of a safetensors file. */
export interface ParsedSafetensors {
  /** Every tensor by name, in the order of their bytes in the file. */
  tensors: SafeTensorMap;
  /** The `__metadata__` map, `{}` when the file has none. */
  metadata: Record<string, string>;
}

/**
 * Parses a safetensors file held in memory, validating its header (see `decodeHeader`).
 *
 * Each tensor's `data` is a view into `bytes`: nothing is copied, and changing `bytes` changes
 * the tensors. Throws {@link SafetensorsError} for any malformed file, and nothing else.
 *
 * @example
 * ```ts
 * import { parseSafetensors, serializeSafetensors, toFloat32Array } from "@spo/safetensors";
 * const bytes = serializeSafetensors({ w: { dtype: "F32", shape: [2], data: new Float32Array([1, 2]) } });
 * const { tensors } = parseSafetensors(bytes);
 * const w = tensors.get("w")!;
 * console.log(w.dtype, w.shape, toFloat32Array(w)); // F32 [ 2 ] Float32Array(2) [ 1, 2 ]
 * ```
 */
export function parseSafetensors(bytes: Uint8Array | ArrayBuffer): ParsedSafetensors {
  const view = ArrayBuffer.isView(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : new Uint8Array(bytes);
  const header = parseSafetensorsHeader(view);
  const tensors: SafeTensorMap = new Map();
  for (const info of header.tensors) {
    const [begin, end] = info.dataOffsets;
    const data = view.subarray(header.dataByteOffset + begin, header.dataByteOffset + end);
    tensors.set(info.name, { dtype: info.dtype, shape: [...info.shape], data });
  }
  return { tensors, metadata: header.metadata };
}
