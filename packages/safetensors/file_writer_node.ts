/**
 * Writing safetensors files to disk in Node, tensor by tensor, without joining them in memory.
 *
 * @module
 */

import { open, type FileHandle } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { SafetensorsError } from "./errors.ts";
import { layoutSafetensors, type TensorsInput } from "./serialize.ts";

/** Writes all of `bytes`: one write call may write less (Linux caps one write near 2 GiB). */
async function writeFully(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, written, bytes.length - written);
    written += bytesWritten;
  }
}

/**
 * Writes tensors and optional metadata to a safetensors file: the same bytes as
 * `serializeSafetensors`, streamed, so the file may be larger than one buffer can hold.
 * Inputs are checked before the file is created.
 *
 * @param path a file path or `file:` URL; an existing file is replaced
 * @example
 * ```ts
 * import { writeSafetensorsFile } from "@spo/safetensors/node";
 * await writeSafetensorsFile("/tmp/x.safetensors", { x: { dtype: "F32", shape: [1], data: new Float32Array([1]) } });
 * ```
 */
export async function writeSafetensorsFile(
  path: string | URL,
  tensors: TensorsInput,
  metadata?: Readonly<Record<string, string>>,
): Promise<void> {
  const filePath = typeof path === "string" ? path : fileURLToPath(path);
  const layout = layoutSafetensors(tensors, metadata);
  try {
    const handle = await open(filePath, "w");
    try {
      await writeFully(handle, layout.head);
      for (const chunk of layout.chunks) await writeFully(handle, chunk.bytes);
    } finally {
      await handle.close();
    }
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new SafetensorsError("io", `Cannot write safetensors file "${filePath}": ${reason}`, { cause });
  }
}
