import { add, logSoftmax, mean, mul, neg, sum, type Tensor, tensor, tidy } from "@spo/wgpu-tensor";

/**
 * CLIP's symmetric contrastive loss for B matching (image, text) rows: cross-entropy of each image
 * against all B texts with its own text as the target, and of each text against all images, averaged:
 * ½·(mean_i −log softmax(L)_ii + mean_i −log softmax(Lᵀ)_ii) with L = `logitsPerImage` [B, B] and
 * Lᵀ = `logitsPerText`. Pretrains a preference model's towers before it learns from pairs.
 * Differentiable in the logits.
 *
 * @example
 * ```ts
 * const { logitsPerImage, logitsPerText } = model.forward(pixels, ids, timesteps);
 * backward(contrastiveLoss(logitsPerImage, logitsPerText));
 * ```
 */
export function contrastiveLoss(logitsPerImage: Tensor, logitsPerText: Tensor): Tensor {
  const [rows, columns] = logitsPerImage.shape;
  if (logitsPerImage.ndim !== 2 || rows !== columns || logitsPerText.shape.some((d) => d !== rows) || logitsPerText.ndim !== 2) {
    throw new RangeError(
      `Cannot compute the contrastive loss: logits [${logitsPerImage.shape.join(", ")}] and [${logitsPerText.shape.join(", ")}], expected two [B, B]`,
    );
  }
  return tidy(() => {
    const diagonal = tensor(
      Float32Array.from({ length: rows * rows }, (_, k) => (k % (rows + 1) === 0 ? 1 : 0)),
      [rows, rows],
      { device: logitsPerImage.device },
    );
    const own = (logits: Tensor) => neg(mean(sum(mul(logSoftmax(logits, -1), diagonal), [1])));
    return mul(add(own(logitsPerImage), own(logitsPerText)), 0.5);
  });
}
