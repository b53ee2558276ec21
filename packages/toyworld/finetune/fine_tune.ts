/**
 * SPO fine-tuning of a toy model: a LoRA trained by `SpoTrainer` on training-split prompts only,
 * with any step scorer (the toy step-aware preference model, or `exactRewardScorer` as an oracle),
 * the toy world's exact reward of each iteration's final samples logged as the reward curve, and
 * settings sized for a CPU. The LoRA stays in the model's UNet after the run, so the fine-tuned
 * model is measured with the same `evaluateToyModel` as the base; `result.remove()` restores the base.
 *
 * @module
 */

import { DDIMScheduler } from "@spo/diffusion-unet";
import type { LoraAdapter } from "@spo/lora";
import {
  type ScoreFunction,
  type SpoTrainConfig,
  SpoTrainer,
  type StepScorer,
  type TrainingProgressEvent,
  type UpdateMetrics,
} from "@spo/trainer";
import type { Tensor } from "@spo/wgpu-tensor";
import { type ToyModel, toyPromptEncoder } from "../model/toy_sampler.ts";
import { clampImage, rewardBatch } from "../reward/reward.ts";
import { checkTrainingPrompts, trainingPrompts } from "./evaluation_set.ts";

/**
 * The SPO settings of a toy fine-tune where they differ from the paper's SD1.5 values
 * (`SPO_TRAIN_DEFAULTS`): 10 sampling steps (the evaluation's η = 0 sampler uses its own count),
 * 4 prompts per iteration (4 prompts × 8 branched steps = up to 32 pairs), minibatches of 8 pairs
 * (up to 4 updates per iteration: sampling costs more than training here, so every pair counts),
 * a larger learning rate for a run of tens of updates, and the toy image shape.
 * Everything else (pool of 4, threshold 0.3, β 10, ε 0.1, CFG 5, η 1, LoRA rank 4 on attention) is SPO's.
 */
export const TOY_SPO_DEFAULTS: Readonly<Partial<SpoTrainConfig>> = Object.freeze({
  seed: 0,
  epochs: 1,
  steps: 10,
  divertStartStep: 2,
  sampleBatchSize: 4,
  trainBatchSize: 8,
  learningRate: 1e-3,
  validationCount: 0,
});

/** Options of `fineTuneToySpo`. */
export interface ToyFineTuneOptions {
  /** SPO's scorer of each candidate's x̂₀ (a `StepScorer`, e.g. the toy SPM, or a plain function). */
  scorer: StepScorer | ScoreFunction;
  /** SPO iterations (each samples `sampleBatchSize` prompts, then trains on their kept pairs). */
  iterations: number;
  /** Settings over `TOY_SPO_DEFAULTS` (poolSize, greedy, divertStartStep, threshold, learningRate, seed, …). */
  config?: Partial<SpoTrainConfig>;
  /**
   * Training prompts (default: `iterations × sampleBatchSize` drawn from the training split with
   * the config's seed). Prompts naming a held-out pair are refused (`HeldOutLeakError`).
   */
  prompts?: readonly string[];
  /** Log the exact reward of every iteration's final samples in the metrics (default true; never trained on). */
  logReward?: boolean;
  onProgress?: (event: TrainingProgressEvent) => void;
  onMetrics?: (metrics: UpdateMetrics, all: readonly UpdateMetrics[]) => void | Promise<void>;
  /** Stops between iterations. */
  signal?: AbortSignal;
}

/** What `fineTuneToySpo` returns. */
export interface ToyFineTuneResult {
  /** The trained LoRA, still injected in the model's UNet (save it with `saveLora`). */
  adapter: LoraAdapter;
  /** One entry per optimizer update: loss, clamped fraction, pairs kept, mean score, reward, LoRA norm. */
  metrics: UpdateMetrics[];
  /** The resolved settings of the run. */
  config: SpoTrainConfig;
  /** The prompts trained on, in the order given. */
  prompts: string[];
  /** Iterations run (fewer than asked when the signal aborted). */
  iterations: number;
  /** Wall time of the run. */
  seconds: number;
  /** Removes the LoRA from the UNet (the model is the base model again) and frees the optimizer. */
  remove(): void;
}

/** The exact reward of final samples, for the trainer's reward log. */
async function exactRewardOf(images: Tensor, prompts: readonly string[]): Promise<Float32Array> {
  const values = clampImage(Float32Array.from(await images.toArray()));
  return rewardBatch(values, prompts, { size: images.shape.at(-1) });
}

/**
 * Fine-tunes `model` with SPO for `iterations` iterations and returns the LoRA with the run's
 * metrics. Seeded: the same options give the same run on the same adapter.
 *
 * @example
 * ```ts
 * const pipe = await loadToyModel();
 * const run = await fineTuneToySpo(pipe.components, { scorer: exactRewardScorer(), iterations: 8 });
 * const after = await evaluateToyModel(pipe.components, heldOutEvaluation({ count: 64 }));
 * run.remove();
 * ```
 */
export async function fineTuneToySpo(model: ToyModel, options: ToyFineTuneOptions): Promise<ToyFineTuneResult> {
  const { iterations, logReward = true } = options;
  if (!Number.isInteger(iterations) || iterations < 1)
    throw new RangeError(`Cannot fine-tune the toy model: iterations must be a positive integer, got ${iterations}`);
  const { unet } = model;
  const latentShape = [unet.config.inChannels, unet.config.sampleSize, unet.config.sampleSize];
  const config: Partial<SpoTrainConfig> = { ...TOY_SPO_DEFAULTS, latentShape, ...options.config };
  const batch = config.sampleBatchSize!;
  const prompts = options.prompts ? [...options.prompts] : trainingPrompts(iterations * batch, { seed: config.seed });
  if (prompts.length === 0) throw new RangeError("Cannot fine-tune the toy model on an empty list of prompts");
  checkTrainingPrompts(prompts);
  // enough epochs over the prompts for the iterations asked, unless the caller set them
  if (options.config?.epochs === undefined) config.epochs = Math.ceil((iterations * batch) / prompts.length);
  const started = performance.now();
  const trainer = await SpoTrainer.create(
    { unet, scheduler: DDIMScheduler.fromConfig(model.schedulerConfig), promptEncoder: toyPromptEncoder(model), scorer: options.scorer },
    config,
    { prompts, reward: logReward ? exactRewardOf : undefined, onProgress: options.onProgress, onMetrics: options.onMetrics },
  );
  try {
    let done = 0;
    while (done < iterations && !trainer.isDone && !(options.signal?.aborted ?? false)) {
      await trainer.iteration();
      done++;
    }
    return {
      adapter: trainer.adapter,
      metrics: [...trainer.metrics],
      config: trainer.config,
      prompts,
      iterations: done,
      seconds: (performance.now() - started) / 1000,
      remove: () => trainer.dispose(),
    };
  } catch (error) {
    trainer.dispose();
    throw error;
  }
}
