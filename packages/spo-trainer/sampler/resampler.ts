/**
 * SPO's step-wise resampler: the next parent of each prompt is drawn uniformly at random from its
 * pool, independent of the scores (the paper's choice); `greedy` picks the best-scored child instead
 * (the ablation).
 *
 * @module
 */

import type { Tensor } from "@spo/wgpu-tensor";

/** Anything that draws uniform [0, 1) tensors in sequence (`RandomGenerator` of @spo/wgpu-tensor). */
export interface UniformSource {
  rand(shape: readonly number[]): Tensor;
}

/**
 * The index of the next parent for each of `batch` prompts, in [0, k). Random mode reads one
 * uniform draw per prompt from `generator` (and never looks at `scores`); greedy mode returns the
 * argmax of each column of the k-major `scores` (first of equal maxima) and draws nothing.
 *
 * @example
 * ```ts
 * const next = await resampleParents(scores, 2, 4, { generator }); // Int32Array [j₀, j₁]
 * ```
 */
export async function resampleParents(
  scores: ArrayLike<number>,
  batch: number,
  k: number,
  options: { generator: UniformSource; greedy?: boolean },
): Promise<Int32Array> {
  if (scores.length !== batch * k)
    throw new RangeError(`Cannot resample parents: ${scores.length} scores for a pool of ${k} × ${batch} prompts`);
  const out = new Int32Array(batch);
  if (options.greedy === true) {
    for (let b = 0; b < batch; b++) {
      let best = 0;
      for (let j = 1; j < k; j++) if (scores[j * batch + b] > scores[best * batch + b]) best = j;
      out[b] = best;
    }
    return out;
  }
  const draw = options.generator.rand([batch]);
  const u = await draw.toArray();
  draw.dispose();
  for (let b = 0; b < batch; b++) out[b] = Math.min(Math.floor(u[b] * k), k - 1);
  return out;
}
