/**
 * Opening a checkpoint from bytes, a URL (HTTP range requests) or a Blob: the sources of
 * @spo/safetensors under {@link openTorchCheckpoint}.
 *
 * @module
 */

import { blobByteSource, type UrlOptions, urlByteSource } from "@spo/safetensors";
import { bytesSource } from "./byte_source.ts";
import { openTorchCheckpoint, type TorchCheckpoint, type TorchOpenOptions } from "./torch_checkpoint.ts";

/**
 * Opens a checkpoint held in memory (tensors are views of `bytes` when stored uncompressed).
 *
 * @example
 * ```ts
 * import { openTorchCheckpointBytes } from "@spo/torch-checkpoint";
 * const checkpoint = await openTorchCheckpointBytes(new Uint8Array(await (await fetch(url)).arrayBuffer()));
 * ```
 */
export function openTorchCheckpointBytes(bytes: Uint8Array, options: TorchOpenOptions = {}): Promise<TorchCheckpoint> {
  return openTorchCheckpoint(bytesSource(bytes), options);
}

/**
 * Opens a checkpoint at a URL with range requests: the zip directory and the pickle first, then
 * each tensor's bytes when asked.
 *
 * @example
 * ```ts
 * import { openTorchCheckpointUrl } from "@spo/torch-checkpoint";
 * const checkpoint = await openTorchCheckpointUrl("https://example.com/model.bin");
 * ```
 */
export function openTorchCheckpointUrl(
  url: string | URL,
  options: TorchOpenOptions & Omit<UrlOptions, "prefetchByteLength"> = {},
): Promise<TorchCheckpoint> {
  return openTorchCheckpoint(urlByteSource(url, options), options);
}

/**
 * Opens a checkpoint `Blob` or `File` (a browser file input) lazily.
 *
 * @example
 * ```ts
 * import { openTorchCheckpointBlob } from "@spo/torch-checkpoint";
 * const checkpoint = await openTorchCheckpointBlob(input.files[0]);
 * ```
 */
export function openTorchCheckpointBlob(blob: Blob, options: TorchOpenOptions = {}): Promise<TorchCheckpoint> {
  return openTorchCheckpoint(blobByteSource(blob), options);
}
