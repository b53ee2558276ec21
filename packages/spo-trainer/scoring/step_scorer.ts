/**
 * The scorer interface of the SPO sampler. Any step-aware preference model (the SPM of
 * @spo/step-preference-model), an exact reward, or a plain function can score the candidates: it
 * receives the decoded x̂₀ of every child ([N, 3, H, W] in [−1, 1]), the prompt of each row and the
 * timestep the child sits at (0 for final images), and returns one score per row.
 *
 * @module
 */

import type { Tensor } from "@spo/wgpu-tensor";

/** Scores N images; the scores are compared by softmax, so their scale matters (SPM: ≈100·cos). */
export interface StepScorer {
  score(images: Tensor /* [N, 3, H, W] in [-1, 1] */, prompts: readonly string[], timesteps: readonly number[]): Promise<Float32Array>;
}

/** A plain function used as a scorer. */
export type ScoreFunction = (
  images: Tensor,
  prompts: readonly string[],
  timesteps: readonly number[],
) => Promise<ArrayLike<number>> | ArrayLike<number>;

/**
 * A `StepScorer` from a scorer object or a plain function, checking that one finite score comes
 * back per image.
 *
 * @example
 * ```ts
 * const brightness = asStepScorer(async (images) => {
 *   const values = await mean(images, [1, 2, 3]).toArray(); // mean pixel per image
 *   return Float32Array.from(values, (v) => 10 * v);
 * });
 * ```
 */
export function asStepScorer(scorer: StepScorer | ScoreFunction): StepScorer {
  const call = typeof scorer === "function" ? scorer : scorer.score.bind(scorer);
  return {
    async score(images, prompts, timesteps) {
      const rows = images.shape[0] ?? 0;
      if (prompts.length !== rows || timesteps.length !== rows) {
        throw new RangeError(
          `Cannot score ${rows} images with ${prompts.length} prompts and ${timesteps.length} timesteps: one of each per image`,
        );
      }
      const scores = await call(images, prompts, timesteps);
      if (scores.length !== rows) throw new RangeError(`The scorer returned ${scores.length} scores for ${rows} images`);
      const out = Float32Array.from(scores);
      const bad = out.findIndex((s) => !Number.isFinite(s));
      if (bad >= 0)
        throw new RangeError(
          `The scorer returned ${out[bad]} for image ${bad} (prompt ${JSON.stringify(prompts[bad])}, timestep ${timesteps[bad]})`,
        );
      return out;
    },
  };
}
