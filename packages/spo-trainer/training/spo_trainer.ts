/**
 * The SPO training loop (train_spo.py of the reference code) and, on the same code, the
 * Diffusion-DPO baseline. Per iteration: sample a batch of prompts with the pooled sampler (policy =
 * UNet + LoRA), shuffle the kept pairs, train in minibatches with AdamW on the LoRA parameters only
 * (gradient accumulation, optional clipping), and record metrics per update. The reference model is
 * the same UNet with the adapter switched off. Checkpoints (atomic, through a `CheckpointStore`)
 * hold the LoRA, AdamW's state, the generator's state, the prompt position and the metrics, so a
 * killed run resumes on the same trajectory.
 *
 * @module
 */

import { AdamW, add, clipGradNorm, GradScaler, noGrad, RandomGenerator, sum, square, type Tensor, tidy } from "@spo/wgpu-tensor";
import type { DDIMScheduler } from "@spo/diffusion-unet";
import { injectLora, type LoraAdapter, saveLora } from "@spo/lora";
import {
  type CheckpointStore,
  decodeCheckpoint,
  encodeCheckpoint,
  type TrainingCheckpoint,
  type TrainingProgress,
} from "../checkpoint/training_checkpoint.ts";
import { type PredictionType, resolvePredictionType } from "../losses/prediction_type.ts";
import type { UpdateMetrics } from "../metrics/update_metrics.ts";
import type { PromptEncoder } from "../sampler/guided_denoiser.ts";
import { sampleSpoPairs, type SpoPair } from "../sampler/spo_sampler.ts";
import { asStepScorer, type ScoreFunction, type StepScorer } from "../scoring/step_scorer.ts";
import { diffusionDpoMinibatchStep, type PreferencePair } from "./diffusion_dpo_step.ts";
import { minibatches, seededPermutation } from "./pair_batches.ts";
import { type MinibatchStats, spoMinibatchStep, type TrainableDenoiser } from "./spo_step.ts";
import { betaOf, resolveTrainConfig, type SpoTrainConfig } from "./train_config.ts";
import { sampleImages } from "./validation.ts";

/** A UNet the trainer can adapt (the `UNet2DConditionModel` of @spo/diffusion-unet). */
export type TrainerUNet = TrainableDenoiser & { setGradientCheckpointing?(isEnabled: boolean): unknown };

/** The models of a run. */
export interface SpoTrainerModels {
  unet: TrainerUNet;
  scheduler: DDIMScheduler;
  promptEncoder: PromptEncoder;
  /** SPO's step-aware scorer (not needed for Diffusion-DPO). */
  scorer?: StepScorer | ScoreFunction;
  /** Latents → images in [−1, 1] (SD: VAE decode of x/0.18215); default identity (pixel-space models). */
  decode?: (latents: Tensor) => Tensor;
}

/** Progress reported to the caller. */
export interface TrainingProgressEvent {
  phase: "sample" | "train" | "checkpoint" | "validation";
  epoch: number;
  iteration: number;
  iterationsPerEpoch: number;
  totalIterations: number;
  update: number;
  /** Sampling step inside the iteration (phase "sample"). */
  step?: number;
  steps?: number;
}

export interface SpoTrainerOptions {
  /** Prompts (SPO). */
  prompts?: readonly string[];
  /** Offline preference pairs (Diffusion-DPO). */
  pairs?: readonly PreferencePair[];
  store?: CheckpointStore;
  /** Continue from the store's latest checkpoint when there is one. */
  resume?: boolean;
  /** Exact reward of final samples (logged, never trained on). */
  reward?: (images: Tensor, prompts: readonly string[]) => Promise<ArrayLike<number>> | ArrayLike<number>;
  onProgress?: (event: TrainingProgressEvent) => void;
  onMetrics?: (metrics: UpdateMetrics, all: readonly UpdateMetrics[]) => void | Promise<void>;
  onValidation?: (event: { epoch: number; images: Tensor; prompt: string }) => void | Promise<void>;
  onCheckpoint?: (event: { location: string; progress: TrainingProgress }) => void | Promise<void>;
  /** What the UNet predicts (default: the scheduler config's `predictionType`, else "epsilon"). */
  predictionType?: PredictionType;
  /**
   * Loss scaling for an f16 UNet (PRECISION_RULES.loraGradients): the loss is multiplied by the
   * scale before backward, the gradients divided by it before clipping, and an update whose
   * gradients hold an inf or NaN is skipped (LoRA and AdamW unchanged) and the scale lowered.
   * Default: `new GradScaler()` (torch's rule: 2¹⁶, ×½ on overflow, ×2 after 2000 clean updates)
   * when the UNet's weights are f16, none for f32; null turns it off.
   */
  gradScaler?: GradScaler | null;
}

/** A non-finite loss or LoRA norm: the run stops and no checkpoint is written with those weights. */
export class TrainingDivergedError extends Error {
  override name = "TrainingDivergedError";
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The order of the data in an epoch: a shuffle seeded by (seed, epoch), recomputable on resume. */
export function epochOrder(count: number, seed: number, epoch: number): number[] {
  const random = mulberry32((seed * 1000003 + epoch * 7919) >>> 0);
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/**
 * Trains a LoRA on a UNet with SPO (or Diffusion-DPO).
 *
 * @example
 * ```ts
 * const trainer = await SpoTrainer.create({ unet, scheduler, promptEncoder, scorer, decode }, { epochs: 1 }, { prompts });
 * await trainer.run();
 * const { tensors } = await saveLora(trainer.adapter, "diffusers");
 * ```
 */
export class SpoTrainer {
  readonly config: SpoTrainConfig;
  readonly adapter: LoraAdapter;
  readonly optimizer: AdamW;
  readonly generator: RandomGenerator;
  /** Loss scaling (see {@link SpoTrainerOptions.gradScaler}); null when off. */
  readonly scaler: GradScaler | null;
  /** Updates skipped because a scaled gradient overflowed. */
  skippedUpdates = 0;
  readonly metrics: UpdateMetrics[] = [];
  progress: TrainingProgress;
  readonly #models: SpoTrainerModels;
  readonly #options: SpoTrainerOptions;
  readonly #scorer: StepScorer | null;
  readonly #itemCount: number;
  #startTime = Date.now();
  #secondsBefore = 0;

  private constructor(models: SpoTrainerModels, config: SpoTrainConfig, options: SpoTrainerOptions) {
    this.config = config;
    this.#models = models;
    this.#options = options;
    const isSpo = config.method === "spo";
    const data = isSpo ? options.prompts : options.pairs;
    if (!data || data.length === 0)
      throw new RangeError(`Cannot train with ${config.method}: no ${isSpo ? "prompts" : "preference pairs"} given`);
    if (isSpo && !models.scorer) throw new RangeError("Cannot train with SPO: no scorer given (a StepScorer or a function)");
    this.#itemCount = data.length;
    this.#scorer = models.scorer ? asStepScorer(models.scorer) : null;
    const isHalf = models.unet.parameters()[0]?.dtype === "f16";
    this.scaler = options.gradScaler !== undefined ? options.gradScaler : isHalf ? new GradScaler() : null;
    this.adapter = injectLora(models.unet, {
      name: "spo",
      rank: config.loraRank,
      alpha: config.loraAlpha,
      init: config.loraInit,
      targetModules: config.loraTargetModules,
      seed: config.seed,
    });
    this.optimizer = new AdamW(this.adapter.parameters(), {
      lr: config.learningRate,
      betas: [config.adamBeta1, config.adamBeta2],
      weightDecay: config.adamWeightDecay,
      eps: config.adamEpsilon,
    });
    this.generator = new RandomGenerator(config.seed);
    this.progress = { epoch: 0, position: 0, iteration: 0, update: 0, generator: this.generator.getState() };
    models.unet.setGradientCheckpointing?.(config.gradientCheckpointing);
  }

  /**
   * Builds a trainer: injects the LoRA into `models.unet` and, with `resume`, restores the store's
   * latest checkpoint (its config wins over `config`).
   */
  static async create(models: SpoTrainerModels, config: Partial<SpoTrainConfig>, options: SpoTrainerOptions): Promise<SpoTrainer> {
    resolvePredictionType(options.predictionType, models.scheduler);
    let checkpoint: TrainingCheckpoint | null = null;
    if (options.resume) {
      if (!options.store) throw new RangeError("Cannot resume a run without a checkpoint store");
      const latest = await options.store.latest();
      if (latest) checkpoint = decodeCheckpoint(latest.files);
    }
    const trainer = new SpoTrainer(models, resolveTrainConfig(checkpoint?.config ?? config), options);
    if (checkpoint) trainer.#restore(checkpoint);
    return trainer;
  }

  get iterationsPerEpoch(): number {
    return Math.ceil(this.#itemCount / this.config.sampleBatchSize);
  }

  get totalIterations(): number {
    return this.iterationsPerEpoch * this.config.epochs;
  }

  get isDone(): boolean {
    return this.progress.epoch >= this.config.epochs;
  }

  #restore(checkpoint: TrainingCheckpoint): void {
    const entries = new Map<string, { shape: number[]; data: Float32Array }>(checkpoint.adapter);
    this.adapter.loadStateDict(entries, { strict: true });
    this.optimizer.loadStateDict(checkpoint.optimizer);
    this.generator.setState(checkpoint.progress.generator);
    if (checkpoint.gradScaler && this.scaler) this.scaler.loadStateDict(checkpoint.gradScaler);
    this.progress = structuredClone(checkpoint.progress);
    this.metrics.push(...checkpoint.metrics);
    this.#secondsBefore = checkpoint.metrics.at(-1)?.seconds ?? 0;
  }

  #event(phase: TrainingProgressEvent["phase"], extra: Partial<TrainingProgressEvent> = {}): void {
    this.#options.onProgress?.({
      phase,
      epoch: this.progress.epoch,
      iteration: this.progress.iteration,
      iterationsPerEpoch: this.iterationsPerEpoch,
      totalIterations: this.totalIterations,
      update: this.progress.update,
      ...extra,
    });
  }

  /** Runs iterations until every epoch is done (or `signal` aborts between iterations). */
  async run(options: { signal?: AbortSignal; maxIterations?: number } = {}): Promise<void> {
    let done = 0;
    while (!this.isDone && !(options.signal?.aborted ?? false) && done < (options.maxIterations ?? Infinity)) {
      await this.iteration();
      done++;
    }
  }

  /** One iteration: sample (SPO) or take (Diffusion-DPO) a batch, train on it, checkpoint when due. */
  async iteration(): Promise<void> {
    if (this.isDone) throw new RangeError(`Cannot run another iteration: all ${this.config.epochs} epochs are done`);
    const c = this.config;
    const order = epochOrder(this.#itemCount, c.seed, this.progress.epoch);
    const batchIndices = order.slice(this.progress.position, this.progress.position + c.sampleBatchSize);
    if (c.method === "spo") await this.#spoIteration(batchIndices);
    else await this.#dpoIteration(batchIndices);
    this.progress.position += batchIndices.length;
    this.progress.iteration++;
    const isEpochEnd = this.progress.position >= this.#itemCount;
    if (isEpochEnd) {
      await this.#validate(this.progress.epoch);
      this.progress.epoch++;
      this.progress.position = 0;
    }
    if (isEpochEnd || (c.checkpointEvery > 0 && this.progress.iteration % c.checkpointEvery === 0)) await this.saveCheckpoint();
  }

  async #spoIteration(indices: number[]): Promise<void> {
    const c = this.config;
    const prompts = indices.map((i) => this.#options.prompts![i]);
    const { unet, scheduler, promptEncoder, decode } = this.#models;
    const sampled = await sampleSpoPairs({ unet, scheduler, promptEncoder, scorer: this.#scorer!, generator: this.generator }, prompts, {
      steps: c.steps,
      guidanceScale: c.guidanceScale,
      eta: c.eta,
      divertStartStep: c.divertStartStep,
      poolSize: c.poolSize,
      threshold: c.threshold,
      greedy: c.greedy,
      latentShape: c.latentShape,
      decode,
      predictionType: this.#options.predictionType,
      onStep: ({ step, steps }) => this.#event("sample", { step, steps }),
    });
    let reward: number | null = null;
    try {
      if (this.#options.reward) {
        const images = noGrad(() => tidy(() => (decode ? decode(sampled.latents) : sampled.latents)));
        const values = await this.#options.reward(images, prompts);
        if (images !== sampled.latents) images.dispose();
        reward = Array.from(values).reduce((a, b) => a + b, 0) / values.length;
      }
    } finally {
      sampled.latents.dispose();
    }
    const order = await seededPermutation(sampled.pairs.length, this.generator);
    const shuffled = order.map((i) => sampled.pairs[i]);
    const context = { pairsKept: sampled.pairs.length, pairsOffered: sampled.offered, meanScore: sampled.meanScore, reward };
    await this.#trainMinibatches(
      shuffled,
      (batch, lossScale) =>
        spoMinibatchStep({ unet, scheduler, promptEncoder }, batch as SpoPair[], c.latentShape, {
          beta: betaOf(c),
          clipEps: c.clipEps,
          eta: c.eta,
          guidanceScale: c.guidanceScale,
          lossScale,
          predictionType: this.#options.predictionType,
        }),
      context,
    );
  }

  async #dpoIteration(indices: number[]): Promise<void> {
    const c = this.config;
    const pairs = indices.map((i) => this.#options.pairs![i]);
    const { unet, scheduler, promptEncoder } = this.#models;
    const context = { pairsKept: pairs.length, pairsOffered: pairs.length, meanScore: null, reward: null };
    await this.#trainMinibatches(
      pairs,
      (batch, lossScale) =>
        diffusionDpoMinibatchStep({ unet, scheduler, promptEncoder, generator: this.generator }, batch as PreferencePair[], c.latentShape, {
          beta: betaOf(c),
          lossScale,
          predictionType: this.#options.predictionType,
        }),
      context,
    );
  }

  async #trainMinibatches<P>(
    items: readonly P[],
    step: (batch: readonly P[], lossScale: number) => Promise<MinibatchStats>,
    context: { pairsKept: number; pairsOffered: number; meanScore: number | null; reward: number | null },
  ): Promise<void> {
    const c = this.config;
    const batches = minibatches(items, c.trainBatchSize);
    if (batches.length === 0) {
      // nothing kept: an iteration without update still leaves a trace in the progress callbacks
      this.#event("train");
      return;
    }
    let pending: MinibatchStats[] = [];
    for (let i = 0; i < batches.length; i++) {
      this.#event("train");
      const stats = await step(batches[i], (this.scaler?.scale ?? 1) / c.gradientAccumulationSteps);
      if (!Number.isFinite(stats.loss)) {
        this.optimizer.zeroGrad();
        throw new TrainingDivergedError(
          `Training diverged: the loss is ${stats.loss} at update ${this.progress.update + 1} (epoch ${this.progress.epoch}, iteration ${this.progress.iteration}); ` +
            "stopping without writing a checkpoint; the last good checkpoint stays the latest",
        );
      }
      pending.push(stats);
      const isLast = i === batches.length - 1;
      if (pending.length === c.gradientAccumulationSteps || isLast) {
        await this.#update(pending, context);
        pending = [];
      }
    }
  }

  async #update(
    stats: MinibatchStats[],
    context: { pairsKept: number; pairsOffered: number; meanScore: number | null; reward: number | null },
  ): Promise<void> {
    const c = this.config;
    // with loss scaling: unscale first (clipping sees true gradients), skip the step on inf/NaN
    const gradientsFinite = this.scaler ? await this.scaler.unscale(this.optimizer) : true;
    if (gradientsFinite && c.maxGradNorm !== null) clipGradNorm(this.optimizer.params, c.maxGradNorm).dispose();
    if (this.scaler) {
      if (!(await this.scaler.step(this.optimizer))) this.skippedUpdates++;
    } else this.optimizer.step();
    this.optimizer.zeroGrad();
    this.progress.update++;
    const loraNorm = await this.loraNorm();
    if (!Number.isFinite(loraNorm)) {
      throw new TrainingDivergedError(
        `Training diverged: the LoRA norm is ${loraNorm} after update ${this.progress.update}; stopping without writing a checkpoint`,
      );
    }
    const pairs = stats.reduce((a, s) => a + s.pairs, 0);
    const metrics: UpdateMetrics = {
      update: this.progress.update,
      epoch: this.progress.epoch,
      iteration: this.progress.iteration,
      loss: stats.reduce((a, s) => a + s.loss * s.pairs, 0) / pairs,
      clampedFraction: stats.reduce((a, s) => a + s.clamped, 0) / stats.reduce((a, s) => a + s.ratios, 0),
      pairsKept: context.pairsKept,
      pairsOffered: context.pairsOffered,
      meanScore: context.meanScore,
      reward: context.reward,
      loraNorm,
      learningRate: this.optimizer.lr,
      seconds: this.#secondsBefore + (Date.now() - this.#startTime) / 1000,
    };
    this.metrics.push(metrics);
    await this.#options.onMetrics?.(metrics, this.metrics);
  }

  /** L2 norm of every LoRA parameter. */
  async loraNorm(): Promise<number> {
    const total = noGrad(() =>
      tidy(() => {
        const params = this.adapter.parameters();
        let squares = sum(square(params[0]));
        for (const p of params.slice(1)) squares = add(squares, sum(square(p)));
        return squares;
      }),
    );
    const value = await total.item();
    total.dispose();
    return Math.sqrt(value);
  }

  async #validate(epoch: number): Promise<void> {
    const c = this.config;
    if (c.validationCount === 0 || !this.#options.onValidation) return;
    this.#event("validation");
    const { unet, scheduler, promptEncoder, decode } = this.#models;
    const images = await sampleImages({ unet, scheduler, promptEncoder, decode }, c.validationPrompt, {
      seed: c.validationSeed,
      count: c.validationCount,
      steps: c.steps,
      guidanceScale: c.guidanceScale,
      latentShape: c.latentShape,
    });
    try {
      await this.#options.onValidation({ epoch, images, prompt: c.validationPrompt });
    } finally {
      images.dispose();
    }
  }

  /** Writes a checkpoint now (through the store; nothing without one). */
  async saveCheckpoint(): Promise<string | null> {
    const store = this.#options.store;
    if (!store) return null;
    this.#event("checkpoint");
    this.progress.generator = this.generator.getState();
    const adapter = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [name, t] of this.adapter.stateDict()) {
      const data = Float32Array.from(await t.toArray());
      if (data.some((v) => !Number.isFinite(v)))
        throw new TrainingDivergedError(`Cannot write a checkpoint: LoRA parameter ${name} holds a non-finite value`);
      adapter.set(name, { shape: [...t.shape], data });
    }
    const checkpoint: TrainingCheckpoint = {
      progress: structuredClone(this.progress),
      config: this.config,
      metrics: this.metrics,
      adapter,
      optimizer: await this.optimizer.stateDict(),
      ...(this.scaler ? { gradScaler: this.scaler.stateDict() } : {}),
    };
    const lora = await saveLora(this.adapter, "diffusers");
    const name = `checkpoint-${String(this.progress.iteration).padStart(6, "0")}`;
    const location = await store.save(name, encodeCheckpoint(checkpoint, lora));
    await this.#options.onCheckpoint?.({ location, progress: checkpoint.progress });
    return location;
  }

  /** Removes the LoRA from the UNet and frees the optimizer's state. */
  dispose(): void {
    this.optimizer.dispose();
    this.adapter.remove();
  }
}
