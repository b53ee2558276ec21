/**
 * One opener for weight files of either kind: safetensors or a PyTorch checkpoint, told apart
 * by their first bytes, never by the file name.
 *
 * @module
 */

import { type ByteSource, openSafetensors, type SafetensorsReader } from "@spo/safetensors";
import { readExactly, sourceByteLength } from "./byte_source.ts";
import { TorchCheckpointError } from "./errors.ts";
import { openTorchCheckpoint, type TorchOpenOptions } from "./torch_checkpoint.ts";

/** What a file's first bytes say it is. */
export type WeightsFormat = "safetensors" | "torch" | "unknown";

/**
 * Tells safetensors (an 8-byte little-endian header length, then `{`) from a PyTorch checkpoint
 * (a zip archive, `PK\x03\x04`, or a pickle, `\x80` and a protocol number) by their first bytes.
 *
 * @example
 * ```ts
 * import { sniffWeightsFormat } from "@spo/torch-checkpoint";
 * console.log(sniffWeightsFormat(new Uint8Array([0x50, 0x4b, 3, 4]))); // "torch"
 * ```
 */
export function sniffWeightsFormat(prefix: Uint8Array): WeightsFormat {
  if (prefix.length >= 9 && prefix[8] === 0x7b && prefix[6] === 0 && prefix[7] === 0) return "safetensors";
  const isZip = prefix.length >= 4 && prefix[0] === 0x50 && prefix[1] === 0x4b && prefix[2] === 3 && prefix[3] === 4;
  const isPickle = prefix.length >= 2 && prefix[0] === 0x80 && prefix[1]! >= 2 && prefix[1]! <= 5;
  return isZip || isPickle ? "torch" : "unknown";
}

/**
 * Opens weights from any byte source as a `SafetensorsReader`: a safetensors file as it is, a
 * PyTorch checkpoint as its state dict (the tensors under `state_dict` for A1111 / Lightning
 * `.ckpt` files, else all of them). Model loaders take the result unchanged.
 *
 * @example
 * ```ts
 * import { openWeightsSource } from "@spo/torch-checkpoint";
 * import { urlByteSource } from "@spo/safetensors";
 * const reader = await openWeightsSource(urlByteSource("https://example.com/model.ckpt"));
 * ```
 */
export async function openWeightsSource(source: ByteSource, options: TorchOpenOptions = {}): Promise<SafetensorsReader> {
  let format: WeightsFormat;
  try {
    const byteLength = await sourceByteLength(source);
    format = sniffWeightsFormat(await readExactly(source, 0, Math.min(byteLength, 16), "the first bytes"));
  } catch (error) {
    await source.close?.();
    throw error;
  }
  if (format === "safetensors") return openSafetensors(source);
  if (format === "torch") return (await openTorchCheckpoint(source, options)).stateDict();
  await source.close?.();
  throw new TorchCheckpointError(
    "not_a_checkpoint",
    `Cannot open weights from ${source.description}: it is neither safetensors nor a PyTorch checkpoint (zip or pickle)`,
  );
}
