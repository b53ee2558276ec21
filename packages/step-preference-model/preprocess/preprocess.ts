import { add, clamp, div, interpolate, narrow, sub, type Tensor, tensor, tidy } from "@spo/wgpu-tensor";

/** How SPO prepares images for its preference model. */
export interface PreprocessOptions {
  /** The model's input size (224 for ViT-H/14). */
  imageSize: number;
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

/** Python's `round` (half to even), as torchvision's CenterCrop uses it. */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * The resize SPO applies: the short side becomes `imageSize`, each side int(side·scale + 0.5) with
 * scale = imageSize / min(h, w); then torchvision's centre crop offsets, round((side − size)/2).
 *
 * @example
 * ```ts
 * resizeGeometry(512, 768, 224); // { height: 224, width: 336, top: 0, left: 56 }
 * ```
 */
export function resizeGeometry(
  height: number,
  width: number,
  imageSize: number,
): { height: number; width: number; top: number; left: number } {
  const scale = imageSize / Math.min(height, width);
  const resizedHeight = Math.trunc(height * scale + 0.5);
  const resizedWidth = Math.trunc(width * scale + 0.5);
  return {
    height: resizedHeight,
    width: resizedWidth,
    top: roundHalfEven((resizedHeight - imageSize) / 2),
    left: roundHalfEven((resizedWidth - imageSize) / 2),
  };
}

/**
 * SPO's `get_preference_score` pre-processing of raw images in [−1, 1] (a VAE decode, not clamped
 * first): bicubic resize with PyTorch semantics (A = −0.75, half-pixel centres, no antialias) so the
 * short side is `imageSize`, centre crop to imageSize², clamp(x/2 + 0.5, 0, 1), then
 * (x − mean)/std per channel. [N, 3, H, W] → [N, 3, S, S] in the input's dtype.
 *
 * @example
 * ```ts
 * const pixels = preprocessImages(decoded, { imageSize: 224, mean: CLIP_IMAGE_MEAN, std: CLIP_IMAGE_STD });
 * ```
 */
export function preprocessImages(images: Tensor, options: PreprocessOptions): Tensor {
  const [, channels, height, width] = images.shape;
  if (images.ndim !== 4 || channels !== 3 || (images.dtype !== "f32" && images.dtype !== "f16")) {
    throw new TypeError(`Cannot preprocess images of shape [${images.shape.join(", ")}] (${images.dtype}): expected float [N, 3, H, W]`);
  }
  const { imageSize } = options;
  const geometry = resizeGeometry(height, width, imageSize);
  return tidy(() => {
    // 1. bicubic resize of the short side (skipped when it is already the size: the identity)
    let x = images;
    if (geometry.height !== height || geometry.width !== width) {
      x = interpolate(x, { size: [geometry.height, geometry.width], mode: "bicubic", alignCorners: false });
    }
    // 2. centre crop
    if (geometry.height !== imageSize) x = narrow(x, 2, geometry.top, imageSize);
    if (geometry.width !== imageSize) x = narrow(x, 3, geometry.left, imageSize);
    // 3. [−1, 1] → [0, 1], clamped
    x = clamp(add(div(x, 2), 0.5), 0, 1);
    // 4. CLIP normalisation
    const mean = tensor(Float32Array.from(options.mean), [1, 3, 1, 1], { device: images.device, dtype: images.dtype });
    const std = tensor(Float32Array.from(options.std), [1, 3, 1, 1], { device: images.device, dtype: images.dtype });
    return div(sub(x, mean), std);
  });
}
