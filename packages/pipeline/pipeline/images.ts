/**
 * Decoded images → 8-bit RGBA pixels, as diffusers' `numpy_to_pil` rounds them.
 *
 * @module
 */

import type { Tensor } from "@spo/wgpu-tensor";

/** One generated image: RGBA bytes, row-major, `width · height · 4` long (ImageData's layout). */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8ClampedArray<ArrayBuffer>;
}

/**
 * RGB images [B, 3, H, W] → RGBA images: v ↦ round(clamp(v·scale + shift, 0, 1)·255), alpha 255.
 * VAE output in [−1, 1] uses scale ½ and shift ½ (the default); TAESD output in [0, 1] uses 1 and 0.
 *
 * @example
 * ```ts
 * const [image] = await tensorToRgba(vae.decode(latents)); // image.data.length === 4·W·H
 * ```
 */
export async function tensorToRgba(images: Tensor, scale = 0.5, shift = 0.5): Promise<RgbaImage[]> {
  const [batch, channels, height, width] = images.shape as [number, number, number, number];
  if (images.ndim !== 4 || channels !== 3) {
    throw new RangeError(`Cannot convert a tensor of shape [${images.shape.join(", ")}] to images: expected [batch, 3, height, width]`);
  }
  const values = (await images.toArray()) as ArrayLike<number>;
  const plane = width * height;
  const out: RgbaImage[] = [];
  for (let b = 0; b < batch; b++) {
    const data = new Uint8ClampedArray(plane * 4);
    for (let c = 0; c < 3; c++) {
      const base = (b * 3 + c) * plane;
      for (let i = 0; i < plane; i++) {
        const v = Math.min(1, Math.max(0, values[base + i]! * scale + shift));
        data[i * 4 + c] = Math.round(v * 255);
      }
    }
    for (let i = 0; i < plane; i++) data[i * 4 + 3] = 255;
    out.push({ width, height, data });
  }
  return out;
}

/**
 * The image as a DOM `ImageData` (browsers and workers), sharing its bytes, ready for a canvas.
 *
 * @example
 * ```ts
 * canvas.getContext("2d")!.putImageData(toImageData(images[0]!), 0, 0);
 * ```
 */
export function toImageData(image: RgbaImage): ImageData {
  if (typeof ImageData === "undefined")
    throw new Error("Cannot make an ImageData here: this environment has no ImageData (in Node, write a PNG with toPng)");
  return new ImageData(image.data, image.width, image.height);
}
