/**
 * Measures a toy model on a fixed evaluation set: one image per (prompt, seed) by deterministic DDIM
 * (η = 0) with CFG, its exact reward, and the mean with a 95 % confidence interval. With the same
 * set and options a model gives the same images on the same adapter, so a model before and after
 * fine-tuning is compared image by image.
 *
 * @module
 */

import { type MeanWithInterval, meanWithInterval } from "../reward/statistics.ts";
import { rewardBatch } from "../reward/reward.ts";
import { sampleToyImages, type ToyModel } from "../model/toy_sampler.ts";
import type { ToyEvaluationSet } from "./evaluation_set.ts";

/** Options of `evaluateToyModel`. */
export interface EvaluateToyOptions {
  /** DDIM steps (default 20). */
  steps?: number;
  /** CFG scale (default 5). */
  guidanceScale?: number;
  /** Images sampled per batch (default 32: one UNet call per step for the whole batch, both CFG halves). */
  batchSize?: number;
  /** Called after each batch with the images done so far. */
  onProgress?: (event: { done: number; total: number }) => void;
}

/** What `evaluateToyModel` measured. */
export interface ToyEvaluation {
  /** The exact reward of each image, in the set's order. */
  rewards: Float32Array;
  /** Mean reward with its 95 % interval (`n` = number of images). */
  reward: MeanWithInterval;
  /** The images (CHW, 3·16·16 floats in [−1, 1]), in the set's order. */
  images: Float32Array[];
  /** Wall time of sampling and scoring. */
  seconds: number;
}

/**
 * Samples every prompt of the set with its seed and scores the images with the exact reward.
 *
 * @example
 * ```ts
 * const pipe = await loadToyModel();
 * const before = await evaluateToyModel(pipe.components, heldOutEvaluation({ count: 64 }));
 * console.log(before.reward.mean, before.reward.low, before.reward.high);
 * ```
 */
export async function evaluateToyModel(model: ToyModel, set: ToyEvaluationSet, options: EvaluateToyOptions = {}): Promise<ToyEvaluation> {
  const { steps = 20, guidanceScale = 5, batchSize = 32, onProgress } = options;
  if (set.prompts.length === 0) throw new RangeError("Cannot evaluate a toy model on an empty evaluation set");
  if (set.seeds.length !== set.prompts.length)
    throw new RangeError(`Cannot evaluate a toy model: ${set.prompts.length} prompts and ${set.seeds.length} seeds`);
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`Cannot evaluate a toy model: batchSize must be a positive integer, got ${batchSize}`);
  const started = performance.now();
  const total = set.prompts.length;
  const size = model.unet.config.sampleSize;
  const plane = model.unet.config.outChannels * size * size;
  const rewards = new Float32Array(total);
  const images: Float32Array[] = [];
  for (let start = 0; start < total; start += batchSize) {
    const prompts = set.prompts.slice(start, start + batchSize);
    const seeds = set.seeds.slice(start, start + batchSize);
    const batch = await sampleToyImages(model, prompts, { seeds, steps, guidanceScale, eta: 0 });
    rewards.set(rewardBatch(batch, prompts, { size }), start);
    for (let k = 0; k < prompts.length; k++) images.push(batch.slice(k * plane, (k + 1) * plane));
    onProgress?.({ done: start + prompts.length, total });
  }
  return { rewards, reward: meanWithInterval(rewards), images, seconds: (performance.now() - started) / 1000 };
}
