/**
 * The Node-only part of `@spo/torch-checkpoint`: checkpoints and weight files on disk, the
 * conversion to safetensors and the `spo convert` command. Everything of `mod.ts` is re-exported.
 *
 * @module
 */

export * from "./mod.ts";
export { openWeights, readTorchCheckpointFile, type WeightsInput } from "./file_reader_node.ts";
export { convertCheckpoint, type ConvertReport, runConvertCommand } from "./convert_node.ts";
