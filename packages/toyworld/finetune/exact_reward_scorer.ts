/**
 * The toy world's exact reward as SPO's step scorer: each candidate's x̂₀ (clamped to [−1, 1]) is
 * scored by `reward` against its prompt, whatever the timestep. It is the oracle stand-in for a
 * step-aware preference model: it cannot judge how a noisy x̂₀ will turn out, only what it shows.
 *
 * @module
 */

import { asStepScorer, type StepScorer } from "@spo/trainer";
import type { Tensor } from "@spo/wgpu-tensor";
import { clampImage, rewardBatch } from "../reward/reward.ts";

/**
 * A `StepScorer` returning `scale` × the exact reward. SPO keeps a pair when the softmax of the
 * two scores separates them by more than its threshold, so the scale sets which reward gaps count:
 * with the default 100 (the step-aware preference model's 100 · cosine range) and SPO's threshold
 * 0.3, a pair needs a reward gap above 0.0062.
 *
 * @example
 * ```ts
 * const scorer = exactRewardScorer();
 * const scores = await scorer.score(images, prompts, timesteps); // 100 · reward per image
 * ```
 */
export function exactRewardScorer(options: { scale?: number } = {}): StepScorer {
  const scale = options.scale ?? 100;
  if (!(scale > 0 && Number.isFinite(scale))) throw new RangeError(`Cannot scale the exact reward by ${scale}: expected a positive number`);
  return asStepScorer(async (images: Tensor, prompts: readonly string[]) => {
    const size = images.shape.at(-1);
    const values = clampImage(Float32Array.from(await images.toArray()));
    return rewardBatch(values, prompts, { size }).map((r) => scale * r);
  });
}
