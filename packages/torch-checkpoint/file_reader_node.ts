/**
 * Opening checkpoints and weight files on disk in Node, lazily.
 *
 * @module
 */

import { type ByteSource, openFileByteSource, type SafetensorsReader, type UrlOptions, urlByteSource } from "@spo/safetensors/node";
import { bytesSource } from "./byte_source.ts";
import { TorchCheckpointError } from "./errors.ts";
import { openWeightsSource } from "./open_weights.ts";
import { openTorchCheckpoint, type TorchCheckpoint, type TorchOpenOptions } from "./torch_checkpoint.ts";

async function fileSource(path: string | URL, what: string): Promise<ByteSource> {
  try {
    return await openFileByteSource(path, what);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new TorchCheckpointError("io", reason, { cause });
  }
}

/**
 * Opens a `.bin` / `.ckpt` / `.pt` file: reads its zip directory (or legacy pickles) and its
 * pickle; each tensor's bytes are read only when asked, so a 4 GB `.ckpt` is never read whole.
 *
 * @param path a file path or `file:` URL
 * @example
 * ```ts
 * import { readTorchCheckpointFile } from "@spo/torch-checkpoint/node";
 * await using checkpoint = await readTorchCheckpointFile("pytorch_model.bin");
 * console.log(checkpoint.names.length, checkpoint.info(checkpoint.names[0]!).shape);
 * ```
 */
export async function readTorchCheckpointFile(path: string | URL, options: TorchOpenOptions = {}): Promise<TorchCheckpoint> {
  return openTorchCheckpoint(await fileSource(path, "checkpoint"), options);
}

/** Where {@link openWeights} reads from: a path, a `file:` or `http(s):` URL, or bytes. */
export type WeightsInput = string | URL | Uint8Array;

function isHttp(input: string | URL): boolean {
  return /^https?:\/\//i.test(String(input));
}

/**
 * Opens a weights file whatever its format, told by its first bytes: safetensors, or a PyTorch
 * checkpoint as its state dict (`state_dict` of a `.ckpt`, else all tensors). The result is a
 * `SafetensorsReader`, as the model loaders and `loadWeights` expect.
 *
 * @example
 * ```ts
 * import { openWeights } from "@spo/torch-checkpoint/node";
 * await using weights = await openWeights("v1-5-pruned-emaonly.ckpt");
 * console.log(weights.has("model.diffusion_model.input_blocks.0.0.weight"));
 * ```
 */
export async function openWeights(
  input: WeightsInput,
  options: TorchOpenOptions & Omit<UrlOptions, "prefetchByteLength"> = {},
): Promise<SafetensorsReader> {
  if (input instanceof Uint8Array) return openWeightsSource(bytesSource(input), options);
  if (isHttp(input)) return openWeightsSource(urlByteSource(input, options), options);
  return openWeightsSource(await fileSource(input, "weights file"), options);
}
