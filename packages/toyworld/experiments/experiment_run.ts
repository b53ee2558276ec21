/**
 * One (variant, seed) training run of the experiment, on a loaded toy model: SPO through
 * `SpoTrainer` on training prompts, or Diffusion-DPO on offline pairs of base-model samples
 * labelled by the exact reward, trained until it has spent at least a given compute. The UNet's
 * rows are counted by a `ComputeMeter`; at checkpoints the model is measured on monitor prompts of
 * the training split (not charged, not timed), which gives the reward-against-compute curve.
 * The LoRA is removed afterwards unless the caller keeps it to evaluate (`result.remove()`).
 *
 * @module
 */

import { DDIMScheduler } from "@spo/diffusion-unet";
import { type PreferencePair, type SpoTrainConfig, SpoTrainer, type StepScorer } from "@spo/trainer";
import type { Tensor } from "@spo/wgpu-tensor";
import { evaluateToyModel } from "../finetune/evaluate.ts";
import { checkTrainingPrompts, trainingPrompts, type ToyEvaluationSet } from "../finetune/evaluation_set.ts";
import { TOY_SPO_DEFAULTS } from "../finetune/fine_tune.ts";
import { sampleToyImages, type ToyModel, toyPromptEncoder } from "../model/toy_sampler.ts";
import { clampImage, rewardBatch } from "../reward/reward.ts";
import type { ComputeMeter } from "./compute_meter.ts";
import type { ExperimentVariant } from "./experiment_variants.ts";
import type { CurvePoint } from "./results_table.ts";

/** Settings shared by every run. */
export interface RunSettings {
  /** SPO iterations (each: `sampleBatchSize` prompts sampled, then trained on). */
  iterations: number;
  /** Sampling steps of training and evaluation. */
  steps: number;
  /** The LoRA's learning rate of SPO runs (a variant's own setting wins). */
  learningRate: number;
  /** Monitor measurements during a run (evenly spaced in iterations or compute; the last at the end). */
  checkpoints: number;
  /** Prompts of the training split measured at each checkpoint. */
  monitor: ToyEvaluationSet;
  /** Diffusion-DPO: its compute is at least this multiple of SPO's (same seed). */
  dpoComputeRatio: number;
  /** Diffusion-DPO: the share of its budget spent making pairs (the rest trains). */
  dpoPairShare: number;
  /** Diffusion-DPO's learning rate (its LoRA; β = 5000 is its recipe's). */
  dpoLearningRate: number;
}

/** What a run returns; the LoRA stays in the UNet until `remove()`. */
export interface TrainedRun {
  iterations: number;
  updates: number;
  pairsKept: number;
  pairsOffered: number;
  /** Share of the ratios clamped by SPO's clip, mean over updates (null without updates; Diffusion-DPO has no clip). */
  clampedFraction: number | null;
  trainSeconds: number;
  /** CPU time of this process during training (all threads; lavapipe's included). */
  trainCpuSeconds: number;
  curve: CurvePoint[];
  remove(): void;
}

async function exactRewardOf(images: Tensor, prompts: readonly string[]): Promise<Float32Array> {
  return rewardBatch(clampImage(Float32Array.from(await images.toArray())), prompts, { size: images.shape.at(-1) });
}

/** A checkpoint measurer: monitor reward at the meter's count, its own time excluded from training's. */
function monitorOf(model: ToyModel, settings: RunSettings, meter: ComputeMeter) {
  const curve: CurvePoint[] = [];
  let excluded = 0;
  let excludedCpu = 0;
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  const cpuSeconds = (since?: NodeJS.CpuUsage) => {
    const u = process.cpuUsage(since);
    return (u.user + u.system) / 1e6;
  };
  return {
    curve,
    seconds: () => (performance.now() - started) / 1000 - excluded,
    cpuSeconds: () => cpuSeconds(cpuStart) - excludedCpu,
    async measure(): Promise<void> {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const result = await meter.paused(() => evaluateToyModel(model, settings.monitor, { steps: settings.steps }));
      excluded += (performance.now() - t0) / 1000;
      excludedCpu += cpuSeconds(c0);
      curve.push({
        forwardEquivalents: meter.forwardEquivalents,
        seconds: (performance.now() - started) / 1000 - excluded,
        reward: result.reward.mean,
      });
    },
  };
}

function latentShapeOf(model: ToyModel): number[] {
  const c = model.unet.config;
  return [c.inChannels, c.sampleSize, c.sampleSize];
}

/** SPO for `settings.iterations` iterations with `scorer`; `meter` is reset at the start. */
export async function runSpo(
  model: ToyModel,
  variant: ExperimentVariant,
  seed: number,
  scorer: StepScorer,
  settings: RunSettings,
  meter: ComputeMeter,
  onIteration?: (done: number) => void,
): Promise<TrainedRun> {
  const config: Partial<SpoTrainConfig> = {
    ...TOY_SPO_DEFAULTS,
    latentShape: latentShapeOf(model),
    steps: settings.steps,
    seed,
    learningRate: settings.learningRate,
    ...variant.config,
  };
  const prompts = trainingPrompts(settings.iterations * config.sampleBatchSize!, { seed });
  checkTrainingPrompts(prompts);
  meter.reset();
  const trainer = await SpoTrainer.create(
    { unet: model.unet, scheduler: DDIMScheduler.fromConfig(model.schedulerConfig), promptEncoder: toyPromptEncoder(model), scorer },
    config,
    { prompts, reward: exactRewardOf },
  );
  const monitor = monitorOf(model, settings, meter);
  const every = settings.iterations / settings.checkpoints;
  let next = every;
  let pairsKept = 0;
  let pairsOffered = 0;
  try {
    for (let i = 1; i <= settings.iterations; i++) {
      const before = trainer.metrics.length;
      await trainer.iteration();
      const fresh = trainer.metrics.slice(before);
      // every update of an iteration carries the iteration's pair counts
      if (fresh.length > 0) {
        pairsKept += fresh[0]!.pairsKept;
        pairsOffered += fresh[0]!.pairsOffered;
      } else pairsOffered += config.sampleBatchSize! * (config.steps! - config.divertStartStep!); // none kept: every branched step offered one
      onIteration?.(i);
      if (i >= next - 1e-9 || i === settings.iterations) {
        await monitor.measure();
        next += every;
      }
    }
    const clamped = trainer.metrics.map((m) => m.clampedFraction);
    return {
      iterations: settings.iterations,
      updates: trainer.metrics.length,
      pairsKept,
      pairsOffered,
      clampedFraction: clamped.length > 0 ? clamped.reduce((a, b) => a + b, 0) / clamped.length : null,
      trainSeconds: monitor.seconds(),
      trainCpuSeconds: monitor.cpuSeconds(),
      curve: monitor.curve,
      remove: () => trainer.dispose(),
    };
  } catch (error) {
    trainer.dispose();
    throw error;
  }
}

/**
 * Offline preference pairs: each training prompt sampled twice from the base model (η = 0 DDIM,
 * CFG 5, two noise seeds), the image with the higher exact reward is the winner; ties are dropped.
 */
export async function offlinePairs(model: ToyModel, prompts: readonly string[], seed: number, steps: number): Promise<PreferencePair[]> {
  checkTrainingPrompts(prompts);
  const size = model.unet.config.sampleSize;
  const plane = model.unet.config.outChannels * size * size;
  const pairs: PreferencePair[] = [];
  const chunk = 16;
  for (let start = 0; start < prompts.length; start += chunk) {
    const part = prompts.slice(start, start + chunk);
    const doubled = [...part, ...part];
    const seeds = doubled.map((_, k) => 1_000_000 * (seed + 1) + 2 * (start + (k % part.length)) + (k < part.length ? 0 : 1));
    const images = await sampleToyImages(model, doubled, { seeds, steps, eta: 0 });
    const rewards = rewardBatch(images, doubled, { size });
    for (let k = 0; k < part.length; k++) {
      const a = images.slice(k * plane, (k + 1) * plane);
      const b = images.slice((k + part.length) * plane, (k + part.length + 1) * plane);
      const ra = rewards[k]!;
      const rb = rewards[k + part.length]!;
      if (ra === rb) continue;
      pairs.push(ra > rb ? { prompt: part[k]!, winner: a, loser: b } : { prompt: part[k]!, winner: b, loser: a });
    }
  }
  return pairs;
}

/**
 * Diffusion-DPO until the meter reaches `budget` forward-equivalents: `dpoPairShare` of the budget
 * makes pairs (40 rows each at 10 steps: two images, both CFG halves), the rest trains on them
 * (minibatches of 8, as many epochs as it takes).
 */
export async function runDiffusionDpo(
  model: ToyModel,
  seed: number,
  budget: number,
  settings: RunSettings,
  meter: ComputeMeter,
  onIteration?: (done: number) => void,
): Promise<TrainedRun> {
  if (!(budget > 0)) throw new RangeError(`Cannot run Diffusion-DPO on a budget of ${budget} forward-equivalents`);
  meter.reset();
  const monitor = monitorOf(model, settings, meter);
  const rowsPerPair = 2 * 2 * settings.steps;
  const promptCount = Math.max(8, Math.ceil((settings.dpoPairShare * budget) / rowsPerPair));
  const prompts = trainingPrompts(promptCount, { seed });
  const pairs = await offlinePairs(model, prompts, seed, settings.steps);
  if (pairs.length === 0) throw new RangeError("Cannot run Diffusion-DPO: every pair of base samples tied in reward");
  const config: Partial<SpoTrainConfig> = {
    ...TOY_SPO_DEFAULTS,
    method: "diffusion-dpo",
    latentShape: latentShapeOf(model),
    steps: settings.steps,
    seed,
    sampleBatchSize: 8,
    trainBatchSize: 8,
    epochs: 100_000,
    learningRate: settings.dpoLearningRate,
  };
  const trainer = await SpoTrainer.create(
    { unet: model.unet, scheduler: DDIMScheduler.fromConfig(model.schedulerConfig), promptEncoder: toyPromptEncoder(model) },
    config,
    { pairs },
  );
  const made = meter.forwardEquivalents;
  const checkpointsLeft = Array.from({ length: settings.checkpoints }, (_, i) => made + ((budget - made) * (i + 1)) / settings.checkpoints);
  let iterations = 0;
  try {
    while (meter.forwardEquivalents < budget) {
      await trainer.iteration();
      iterations++;
      onIteration?.(iterations);
      if (checkpointsLeft.length > 0 && (meter.forwardEquivalents >= checkpointsLeft[0]! || meter.forwardEquivalents >= budget)) {
        while (checkpointsLeft.length > 0 && checkpointsLeft[0]! <= meter.forwardEquivalents) checkpointsLeft.shift();
        await monitor.measure();
      }
    }
    return {
      iterations,
      updates: trainer.metrics.length,
      pairsKept: pairs.length,
      pairsOffered: prompts.length,
      clampedFraction: null,
      trainSeconds: monitor.seconds(),
      trainCpuSeconds: monitor.cpuSeconds(),
      curve: monitor.curve,
      remove: () => trainer.dispose(),
    };
  } catch (error) {
    trainer.dispose();
    throw error;
  }
}
