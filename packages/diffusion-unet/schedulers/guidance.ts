import { add, mul, sub, type Tensor, tidy } from "@spo/wgpu-tensor";

/**
 * Classifier-free guidance (arXiv 2207.12598) as diffusers' pipelines combine the two model
 * outputs: ε̂ = ε_uncond + s·(ε_cond − ε_uncond). s = 1 gives ε_cond, s = 0 gives ε_uncond; SD
 * pipelines default to s = 7.5, SPO's training loss uses s = 5.
 *
 * @example
 * ```ts
 * const eps = classifierFreeGuidance(tensor([1, 1]), tensor([2, 3]), 7.5);
 * await eps.toArray(); // Float32Array [8.5, 16]
 * ```
 */
export function classifierFreeGuidance(uncond: Tensor, cond: Tensor, scale: number): Tensor {
  if (uncond.shape.length !== cond.shape.length || uncond.shape.some((d, i) => d !== cond.shape[i])) {
    throw new TypeError(
      `Cannot apply classifier-free guidance to [${uncond.shape.join(", ")}] and [${cond.shape.join(", ")}]: the two outputs must have the same shape`,
    );
  }
  return tidy(() => add(uncond, mul(scale, sub(cond, uncond))));
}
