/**
 * The Node-only part of `@spo/safetensors`: files on disk, read lazily and written streamed.
 * Everything of `mod.ts` is re-exported, so Node code needs only this entry.
 *
 * @example
 * ```ts
 * import { readSafetensorsFile, writeSafetensorsFile } from "@spo/safetensors/node";
 * await writeSafetensorsFile("/tmp/example.safetensors", {
 *   bias: { dtype: "F32", shape: [3], data: new Float32Array([0.5, 1, 2]) },
 * });
 * await using file = await readSafetensorsFile("/tmp/example.safetensors");
 * console.log(file.names, file.info("bias").byteLength); // [ 'bias' ] 12
 * ```
 *
 * @module
 */

export * from "./mod.ts";
export { openFileByteSource, readSafetensorsFile } from "./file_reader_node.ts";
export { writeSafetensorsFile } from "./file_writer_node.ts";
