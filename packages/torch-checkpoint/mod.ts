/**
 * Reads PyTorch checkpoints (`.bin`, `.ckpt`, `.pt`) without running their code: a zip reader,
 * a pickle machine that builds only allow-listed plain data, and lazy tensors behind the
 * `SafetensorsReader` interface of @spo/safetensors, so every weight loader takes a checkpoint.
 *
 * Node-only functions (files on disk, `convertCheckpoint`, the `spo convert` command) are in
 * `@spo/torch-checkpoint/node` (`mod_node.ts`).
 *
 * @module
 */

export { TorchCheckpointError, type TorchCheckpointErrorCode, type TorchCheckpointErrorOptions } from "./errors.ts";
export { bytesSource } from "./byte_source.ts";
export {
  openTorchCheckpoint,
  TorchCheckpoint,
  type TorchCheckpointFormat,
  type TorchOpenOptions,
  type TorchTensorInfo,
} from "./torch_checkpoint.ts";
export type { PlainValue } from "./tree.ts";
export { ALLOWED_GLOBALS } from "./pickle/allowed_globals.ts";
export { openTorchCheckpointBlob, openTorchCheckpointBytes, openTorchCheckpointUrl } from "./openers.ts";
export { openWeightsSource, sniffWeightsFormat, type WeightsFormat } from "./open_weights.ts";
