/**
 * The settings of an SPO (or Diffusion-DPO) run, with the paper's SD1.5 values as defaults
 * (RockeyCoss/SPO configs: spo_sd-v1-5_4k-prompts_num-sam-4_10ep_bs10.py over basic_config.py).
 *
 * @module
 */

import type { LoraInit } from "@spo/lora";

export type TrainingMethod = "spo" | "diffusion-dpo";

/** Every hyperparameter of a run. */
export interface SpoTrainConfig {
  method: TrainingMethod;
  /** Seed of the run's Philox generator (noise, resampler, shuffles). */
  seed: number;
  epochs: number;
  /** Prompts sampled per iteration (SPO) — or offline pairs per iteration (Diffusion-DPO). */
  sampleBatchSize: number;
  /** Pairs per training minibatch. */
  trainBatchSize: number;
  gradientAccumulationSteps: number;
  learningRate: number;
  adamBeta1: number;
  adamBeta2: number;
  adamWeightDecay: number;
  adamEpsilon: number;
  /**
   * Global gradient-norm clip; null = off. Off by default because the reference code's clip is a
   * no-op: its trainable parameters are a Python `filter` iterator that building the optimizer
   * consumes, so `clip_grad_norm_` later receives nothing. Set 1.0 for the configured-but-unapplied value.
   */
  maxGradNorm: number | null;
  /** DPO β: 10 for SPO, 5000 for Diffusion-DPO (null = the method's default). */
  beta: number | null;
  /** Ratio clip ε (SPO): ratios clamped to [1 − ε, 1 + ε]. */
  clipEps: number;
  loraRank: number;
  loraAlpha: number;
  loraInit: LoraInit;
  loraTargetModules: string[];
  gradientCheckpointing: boolean;
  /** Write a checkpoint every n iterations (0: only at the end of every epoch). */
  checkpointEvery: number;
  // sampling
  steps: number;
  guidanceScale: number;
  eta: number;
  divertStartStep: number;
  poolSize: number;
  threshold: number;
  greedy: boolean;
  latentShape: number[];
  /** Validation images per epoch (prompt, seed, count; count 0 = none). */
  validationPrompt: string;
  validationSeed: number;
  validationCount: number;
}

export const SPO_TRAIN_DEFAULTS: Readonly<SpoTrainConfig> = Object.freeze({
  method: "spo",
  seed: 42,
  epochs: 10,
  sampleBatchSize: 10,
  trainBatchSize: 10,
  gradientAccumulationSteps: 1,
  learningRate: 6e-5,
  adamBeta1: 0.9,
  adamBeta2: 0.999,
  adamWeightDecay: 1e-4,
  adamEpsilon: 1e-8,
  maxGradNorm: null,
  beta: null,
  clipEps: 0.1,
  loraRank: 4,
  loraAlpha: 4,
  loraInit: "gaussian",
  loraTargetModules: ["to_q", "to_k", "to_v", "to_out.0"],
  gradientCheckpointing: false,
  checkpointEvery: 0,
  steps: 20,
  guidanceScale: 5,
  eta: 1,
  divertStartStep: 4,
  poolSize: 4,
  threshold: 0.3,
  greedy: false,
  latentShape: [4, 64, 64],
  validationPrompt: "A beautiful lake",
  validationSeed: 0,
  validationCount: 2,
}) as Readonly<SpoTrainConfig>;

/** β of a method when the config leaves it null. */
export function betaOf(config: SpoTrainConfig): number {
  return config.beta ?? (config.method === "spo" ? 10 : 5000);
}

/** Thrown for a setting out of range or of the wrong type (before any GPU work). */
export class TrainConfigError extends Error {
  override name = "TrainConfigError";
}

const INTEGER_KEYS = [
  "seed",
  "epochs",
  "sampleBatchSize",
  "trainBatchSize",
  "gradientAccumulationSteps",
  "loraRank",
  "checkpointEvery",
  "steps",
  "divertStartStep",
  "poolSize",
  "validationSeed",
  "validationCount",
] as const;
const POSITIVE_KEYS = [
  "epochs",
  "sampleBatchSize",
  "trainBatchSize",
  "gradientAccumulationSteps",
  "loraRank",
  "steps",
  "poolSize",
] as const;

/**
 * The defaults overlaid with `partial`, checked: unknown keys, wrong types and out-of-range
 * values throw `TrainConfigError` naming the key.
 *
 * @example
 * ```ts
 * const config = resolveTrainConfig({ epochs: 1, poolSize: 2 });
 * ```
 */
export function resolveTrainConfig(partial: Partial<SpoTrainConfig> = {}): SpoTrainConfig {
  for (const key of Object.keys(partial)) {
    if (!(key in SPO_TRAIN_DEFAULTS))
      throw new TrainConfigError(`Unknown training setting "${key}"; known: ${Object.keys(SPO_TRAIN_DEFAULTS).join(", ")}`);
  }
  const config = { ...SPO_TRAIN_DEFAULTS, ...structuredClone(partial) } as SpoTrainConfig;
  for (const [key, value] of Object.entries(config)) {
    const expected = SPO_TRAIN_DEFAULTS[key as keyof SpoTrainConfig];
    if (key === "maxGradNorm" || key === "beta") {
      if (value !== null && !(typeof value === "number" && value > 0))
        throw new TrainConfigError(`Setting ${key} is ${JSON.stringify(value)}: expected a positive number or null`);
      continue;
    }
    if (Array.isArray(expected) ? !Array.isArray(value) : typeof value !== typeof expected) {
      throw new TrainConfigError(
        `Setting ${key} is ${JSON.stringify(value)}: expected a ${Array.isArray(expected) ? "list" : typeof expected}`,
      );
    }
    if (typeof value === "number" && !Number.isFinite(value))
      throw new TrainConfigError(`Setting ${key} is ${value}: expected a finite number`);
  }
  for (const key of INTEGER_KEYS)
    if (!Number.isInteger(config[key]) || config[key] < 0)
      throw new TrainConfigError(`Setting ${key} is ${config[key]}: expected an integer ≥ 0`);
  for (const key of POSITIVE_KEYS) if (config[key] < 1) throw new TrainConfigError(`Setting ${key} is ${config[key]}: expected at least 1`);
  if (config.method !== "spo" && config.method !== "diffusion-dpo")
    throw new TrainConfigError(`Setting method is ${JSON.stringify(config.method)}: expected "spo" or "diffusion-dpo"`);
  if (config.poolSize < 2) throw new TrainConfigError(`Setting poolSize is ${config.poolSize}: a pool needs at least 2 children`);
  if (config.divertStartStep >= config.steps)
    throw new TrainConfigError(`Setting divertStartStep is ${config.divertStartStep}: it must be below steps (${config.steps})`);
  if (!(config.threshold >= 0 && config.threshold < 1))
    throw new TrainConfigError(`Setting threshold is ${config.threshold}: expected a value in [0, 1)`);
  if (!(config.clipEps > 0 && config.clipEps < 1))
    throw new TrainConfigError(`Setting clipEps is ${config.clipEps}: expected a value in (0, 1)`);
  if (!(config.learningRate > 0)) throw new TrainConfigError(`Setting learningRate is ${config.learningRate}: expected a positive number`);
  if (!(config.eta > 0)) throw new TrainConfigError(`Setting eta is ${config.eta}: SPO's log-prob needs a stochastic sampler (eta > 0)`);
  if (config.latentShape.length !== 3 || !config.latentShape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new TrainConfigError(`Setting latentShape is ${JSON.stringify(config.latentShape)}: expected [channels, height, width]`);
  }
  return config;
}
