/**
 * Reading safetensors files from a `Blob` or `File` (a browser file input, a drag and drop).
 *
 * @module
 */

import { SafetensorsError } from "./errors.ts";
import { openSafetensors, type ByteSource, type OpenOptions, type SafetensorsReader } from "./reader.ts";

/**
 * Opens a safetensors `Blob` or `File` lazily: only the header and the tensors asked for are read
 * (`blob.slice(a, b)`), so a multi-gigabyte file from an `<input type="file">` is never one buffer.
 *
 * @example
 * ```ts
 * import { openSafetensorsBlob, serializeSafetensors } from "@spo/safetensors";
 * const bytes = serializeSafetensors({ x: { dtype: "U8", shape: [2], data: new Uint8Array([1, 2]) } });
 * const reader = await openSafetensorsBlob(new Blob([bytes]));
 * console.log((await reader.tensor("x")).data); // Uint8Array(2) [ 1, 2 ]
 * ```
 */
export async function openSafetensorsBlob(blob: Blob, options: OpenOptions = {}): Promise<SafetensorsReader> {
  return openSafetensors(blobByteSource(blob), options);
}

/**
 * A {@link ByteSource} over a `Blob` or `File` (`blob.slice(a, b)` per read), the transport of
 * {@link openSafetensorsBlob}, for other formats read over the same sources.
 *
 * @example
 * ```ts
 * import { blobByteSource } from "@spo/safetensors";
 * const source = blobByteSource(new Blob([new Uint8Array([1, 2, 3])]));
 * console.log(await source.read(1, 3)); // Uint8Array(2) [ 2, 3 ]
 * ```
 */
export function blobByteSource(blob: Blob): ByteSource {
  const description = "name" in blob && typeof blob.name === "string" ? `"${blob.name}"` : `a ${blob.size}-byte blob`;
  return {
    description,
    byteLength: blob.size,
    async read(start, end) {
      try {
        return new Uint8Array(await blob.slice(start, end).arrayBuffer());
      } catch (cause) {
        const reason = cause instanceof Error ? cause.message : String(cause);
        throw new SafetensorsError("io", `Cannot read bytes [${start}, ${end}) of ${description}: ${reason}`, { cause });
      }
    },
  };
}
