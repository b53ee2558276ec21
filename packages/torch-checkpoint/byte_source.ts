/**
 * Byte sources (the `ByteSource` of @spo/safetensors: bytes in memory, files, URLs, blobs) and
 * exact reads from them.
 *
 * @module
 */

import type { ByteSource } from "@spo/safetensors";
import { TorchCheckpointError } from "./errors.ts";

/**
 * A {@link ByteSource} over bytes in memory (reads are views, not copies).
 *
 * @example
 * ```ts
 * import { bytesSource } from "@spo/torch-checkpoint";
 * const source = bytesSource(new Uint8Array([1, 2, 3]));
 * console.log(await source.read(1, 9)); // Uint8Array(2) [ 2, 3 ]
 * ```
 */
export function bytesSource(bytes: Uint8Array, description = `${bytes.length} bytes in memory`): ByteSource {
  return {
    description,
    byteLength: bytes.length,
    read: async (start, end) => bytes.subarray(Math.max(0, start), Math.max(0, Math.min(end, bytes.length))),
  };
}

/** Reads exactly `[start, end)` or throws a typed error saying what could not be read. */
export async function readExactly(source: ByteSource, start: number, end: number, what: string): Promise<Uint8Array> {
  if (end <= start) return new Uint8Array(0);
  let bytes: Uint8Array;
  try {
    bytes = await source.read(start, end);
  } catch (cause) {
    if (cause instanceof TorchCheckpointError) throw cause;
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new TorchCheckpointError("io", `Cannot read ${what} from ${source.description}: ${reason}`, { cause });
  }
  if (bytes.length !== end - start) {
    throw new TorchCheckpointError(
      "truncated",
      `Cannot read ${what} from ${source.description}: got ${bytes.length} of bytes [${start}, ${end}), the file ends early`,
    );
  }
  return bytes;
}

/** The size of a source, asking for one byte first when it is not known yet (a URL before its first read). */
export async function sourceByteLength(source: ByteSource): Promise<number> {
  if (source.byteLength !== undefined) return source.byteLength;
  await readExactly(source, 0, 1, "the first byte");
  if (source.byteLength === undefined) {
    throw new TorchCheckpointError(
      "io",
      `Cannot read ${source.description}: its size is unknown (a server must send Content-Range with the size)`,
    );
  }
  return source.byteLength;
}
