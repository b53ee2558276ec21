/**
 * Reading safetensors files from disk in Node, lazily: a 4 GB checkpoint is never read whole.
 *
 * @module
 */

import { open, type FileHandle } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { SafetensorsError } from "./errors.ts";
import { openSafetensors, type ByteSource, type OpenOptions, type SafetensorsReader } from "./reader.ts";

function ioError(action: string, cause: unknown): SafetensorsError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new SafetensorsError("io", `${action}: ${reason}`, { cause });
}

/** A {@link ByteSource} over an open file handle. */
class FileSource implements ByteSource {
  readonly description: string;
  readonly byteLength: number;
  readonly #handle: FileHandle;

  constructor(path: string, handle: FileHandle, byteLength: number) {
    this.description = `"${path}"`;
    this.#handle = handle;
    this.byteLength = byteLength;
  }

  async read(start: number, end: number): Promise<Uint8Array> {
    // Never allocate more than the file holds, whatever the caller asks for.
    const stop = Math.min(end, this.byteLength);
    const bytes = new Uint8Array(Math.max(0, stop - start));
    let filled = 0;
    while (filled < bytes.length) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await this.#handle.read(bytes, filled, bytes.length - filled, start + filled));
      } catch (cause) {
        throw ioError(`Cannot read bytes [${start}, ${stop}) of ${this.description}`, cause);
      }
      if (bytesRead === 0) return bytes.subarray(0, filled);
      filled += bytesRead;
    }
    return bytes;
  }

  async close(): Promise<void> {
    await this.#handle.close();
  }
}

/**
 * Opens a safetensors file: reads and validates only its header, then reads each tensor's bytes
 * when asked (`tensor(name)`), or all of them in large sequential reads (`readAll()`).
 *
 * @param path a file path or `file:` URL
 * @example
 * ```ts
 * import { readSafetensorsFile } from "@spo/safetensors/node";
 * await using file = await readSafetensorsFile("unet.safetensors");
 * console.log(file.info("conv_in.weight").shape); // e.g. [ 320, 4, 3, 3 ]
 * const weight = await file.tensor("conv_in.weight"); // reads this tensor's bytes, nothing else
 * ```
 */
export async function readSafetensorsFile(path: string | URL, options: OpenOptions = {}): Promise<SafetensorsReader> {
  return openSafetensors(await openFileByteSource(path, "safetensors file"), options);
}

/**
 * Opens a file as a {@link ByteSource} (reads at offsets through one file handle; `close()`
 * closes it): the transport of {@link readSafetensorsFile}, for other formats read the same way.
 *
 * @param path a file path or `file:` URL
 * @param what names the file in errors (default "file")
 * @example
 * ```ts
 * import { openFileByteSource } from "@spo/safetensors/node";
 * const source = await openFileByteSource("model.bin");
 * const magic = await source.read(0, 4);
 * await source.close?.();
 * ```
 */
export async function openFileByteSource(path: string | URL, what = "file"): Promise<ByteSource> {
  const filePath = typeof path === "string" ? path : fileURLToPath(path);
  let handle: FileHandle;
  let byteLength: number;
  try {
    handle = await open(filePath, "r");
  } catch (cause) {
    throw ioError(`Cannot open ${what} "${filePath}"`, cause);
  }
  try {
    byteLength = (await handle.stat()).size;
  } catch (cause) {
    await handle.close();
    throw ioError(`Cannot open ${what} "${filePath}"`, cause);
  }
  return new FileSource(filePath, handle, byteLength);
}
