/**
 * Helpers for tests of packages that load weights: small checkpoints in PyTorch's layout.
 *
 * @module
 */

export { serializeTorchCheckpoint, type TorchCheckpointWriteOptions } from "./testing/write_checkpoint.ts";
