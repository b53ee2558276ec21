/**
 * Tiled VAE decoding, diffusers' `AutoencoderKL.tiled_decode`: the latents are cut into
 * overlapping square tiles, each tile is decoded alone, and neighbours are cross-faded over the
 * overlap. It bounds the largest activation (and so the largest storage binding: 128 MiB on CPU
 * adapters, where SD's 512×512 decode needs 256 MiB for one 256-channel feature map) at the cost
 * of decoding the overlaps twice.
 *
 * @module
 */

import { add, concat, type DType, mul, narrow, sub, type Tensor, tensor, tidy } from "@spo/wgpu-tensor";
import type { AutoencoderKLConfig } from "./vae_config.ts";

/** Options of tiled decoding. */
export interface VAETilingOptions {
  /** Tile side in latent pixels (diffusers' `tile_latent_min_size`; default `sampleSize / 2^(levels − 1)`, 64 for SD1.5). */
  tileLatentSize?: number;
  /** Share of a tile that overlaps its neighbour (diffusers' `tile_overlap_factor`, default 0.25). */
  overlap?: number;
}

/** What a tiled decode needs of the model: its config and a plain decode of one tile. */
export interface TileDecoder {
  readonly config: AutoencoderKLConfig;
  /** dtype of the decoder's activations (an f16 VAE's feature maps take 2 bytes a value); default f32. */
  readonly dtype?: DType;
  decode(z: Tensor): Tensor;
}

/** The upsampling factor of the decoder: 2^(levels − 1), 8 for SD. */
export function vaeScaleFactor(config: AutoencoderKLConfig): number {
  return 2 ** (config.blockOutChannels.length - 1);
}

/**
 * Bytes of the largest feature map the decoder makes for latents [batch, c, h, w]: at the output of
 * up block l (channels reversed[l], resolution ×2^(l+1), the last block not upsampling).
 *
 * @example
 * ```ts
 * largestDecodeActivationBytes(SD15_VAE, 1, 64, 64); // 268435456: 256 channels at 512×512, f32
 * ```
 */
export function largestDecodeActivationBytes(config: AutoencoderKLConfig, batch: number, h: number, w: number, bytesPerValue = 4): number {
  const reversed = [...config.blockOutChannels].reverse();
  let largest = 0;
  for (let l = 0; l < reversed.length; l++) {
    const scale = 2 ** Math.min(l + 1, reversed.length - 1);
    largest = Math.max(largest, reversed[l]! * h * scale * w * scale);
  }
  return largest * batch * bytesPerValue;
}

/**
 * The largest tile side (a multiple of 8 latent pixels, or the whole latent side when smaller)
 * whose decode keeps every feature map within `maxBytes` for one image; null when even 8 does not.
 */
export function tileLatentSizeWithin(config: AutoencoderKLConfig, maxBytes: number, bytesPerValue = 4): number | null {
  let best: number | null = null;
  for (let side = 8; side <= 4096; side += 8) {
    if (largestDecodeActivationBytes(config, 1, side, side, bytesPerValue) > maxBytes) break;
    best = side;
  }
  return best;
}

/** b's first `extent` rows (axis 2 or 3) cross-faded from a's last `extent`: a·(1 − y/extent) + b·(y/extent). */
function blend(a: Tensor, b: Tensor, extent: number, axis: 2 | 3): Tensor {
  const size = Math.min(a.shape[axis]!, b.shape[axis]!, extent);
  if (size <= 0) return b;
  return tidy(() => {
    const ramp = Float32Array.from({ length: size }, (_, y) => y / size);
    const weight = tensor(ramp, axis === 2 ? [1, 1, size, 1] : [1, 1, 1, size], { device: b.device });
    const tail = narrow(a, axis, a.shape[axis]! - size, size);
    const head = narrow(b, axis, 0, size);
    const faded = add(mul(tail, sub(1, weight)), mul(head, weight));
    return size === b.shape[axis] ? faded : concat([faded, narrow(b, axis, size, b.shape[axis]! - size)], axis);
  });
}

/**
 * Decodes latents [B, c, h, w] tile by tile as diffusers' `tiled_decode` does: tiles of
 * `tileLatentSize` latent pixels every `tileLatentSize·(1 − overlap)`, each blended with the tile
 * above and the tile to the left over `tileSampleSize·overlap` pixels, then cropped to
 * `tileSampleSize·(1 − overlap)` and concatenated. The same numbers as diffusers for the same
 * tile size.
 *
 * @example
 * ```ts
 * const image = tiledDecode(vae, div(latents, vae.config.scalingFactor), { tileLatentSize: 32 });
 * ```
 */
export function tiledDecode(vae: TileDecoder, z: Tensor, options: VAETilingOptions = {}): Tensor {
  const factor = vaeScaleFactor(vae.config);
  const tileLatent = options.tileLatentSize ?? Math.floor(vae.config.sampleSize / factor);
  const overlap = options.overlap ?? 0.25;
  if (!Number.isInteger(tileLatent) || tileLatent < 1)
    throw new RangeError(`Cannot decode in tiles of ${tileLatent} latent pixels: the size must be a positive integer`);
  if (!(overlap >= 0 && overlap < 1)) throw new RangeError(`Cannot decode with a tile overlap of ${overlap}: it must be in [0, 1)`);
  const tileSample = tileLatent * factor;
  // diffusers' integer truncations, so the tiles fall where its tiles fall
  const stride = Math.max(1, Math.floor(tileLatent * (1 - overlap)));
  const blendExtent = Math.floor(tileSample * overlap);
  const rowLimit = tileSample - blendExtent;
  const [, , h, w] = z.shape as [number, number, number, number];
  return tidy(() => {
    const rows: Tensor[][] = [];
    for (let i = 0; i < h; i += stride) {
      const row: Tensor[] = [];
      for (let j = 0; j < w; j += stride) {
        const tile = narrow(narrow(z, 2, i, Math.min(tileLatent, h - i)), 3, j, Math.min(tileLatent, w - j));
        row.push(vae.decode(tile));
      }
      rows.push(row);
    }
    const assembled: Tensor[] = [];
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const cropped: Tensor[] = [];
      for (let j = 0; j < row.length; j++) {
        // in place in diffusers: the blended tile is what its right and lower neighbours blend with
        if (i > 0) row[j] = blend(rows[i - 1]![j]!, row[j]!, blendExtent, 2);
        if (j > 0) row[j] = blend(row[j - 1]!, row[j]!, blendExtent, 3);
        const tile = row[j]!;
        cropped.push(narrow(narrow(tile, 2, 0, Math.min(rowLimit, tile.shape[2]!)), 3, 0, Math.min(rowLimit, tile.shape[3]!)));
      }
      assembled.push(cropped.length === 1 ? cropped[0]! : concat(cropped, 3));
    }
    return assembled.length === 1 ? assembled[0]! : concat(assembled, 2);
  });
}

/**
 * Decodes latents so that no feature map exceeds `maxBindingBytes` (a device's
 * `maxBindingBytes`), counting the bytes of the VAE's dtype (2 a value for f16): whole when it fits, else one image at a time, and each image in tiles when
 * one image alone is too large. Throws a RangeError naming the limit when even 8-latent tiles are.
 *
 * @example
 * ```ts
 * const images = decodeWithinLimit(vae, div(latents, vae.config.scalingFactor), device.maxBindingBytes);
 * ```
 */
export function decodeWithinLimit(vae: TileDecoder, z: Tensor, maxBindingBytes: number): Tensor {
  const [batch, , h, w] = z.shape as [number, number, number, number];
  const size = vae.dtype === "f16" ? 2 : 4;
  if (largestDecodeActivationBytes(vae.config, batch, h, w, size) <= maxBindingBytes) return vae.decode(z);
  const oneImageFits = largestDecodeActivationBytes(vae.config, 1, h, w, size) <= maxBindingBytes;
  const tileLatentSize = oneImageFits ? null : tileLatentSizeWithin(vae.config, maxBindingBytes, size);
  if (!oneImageFits && tileLatentSize === null) {
    throw new RangeError(
      `Cannot decode latents of ${h}×${w}: even 8×8-latent tiles need more than ${maxBindingBytes} bytes in one binding`,
    );
  }
  return tidy(() => {
    const images: Tensor[] = [];
    for (let b = 0; b < batch; b++) {
      const one = narrow(z, 0, b, 1);
      images.push(tileLatentSize === null ? vae.decode(one) : tiledDecode(vae, one, { tileLatentSize }));
    }
    return images.length === 1 ? images[0]! : concat(images, 0);
  });
}
