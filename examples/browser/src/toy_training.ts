/**
 * SPO on the toy world in a tab: the trainer of @spo/trainer on a loaded toy model (pixel space,
 * 16×16), scored by the toy world's exact reward of each candidate's x̂₀ (the role SPO's step-aware
 * preference model plays for SD1.5), and before/after samples with the LoRA off and on.
 *
 * @module
 */
import { saveLora, withAdaptersDisabled } from "@spo/lora";
import type { StableDiffusionPipeline } from "@spo/pipeline";
import { serializeSafetensors } from "@spo/safetensors";
import { DDIMScheduler } from "@spo/diffusion-unet";
import { type CheckpointStore, type SpoTrainConfig, SpoTrainer, type SpoTrainerOptions } from "@spo/trainer";
import { formatPrompt, rewardBatch, sampleScenes, sampleToyImages, type ToyModel, toyPromptEncoder } from "@spo/toyworld";

/** What the page lets a user set (the rest are SPO's defaults). */
export interface ToyTrainSettings {
  prompts: number;
  epochs: number;
  steps: number;
  poolSize: number;
  sampleBatchSize: number;
  learningRate: number;
  threshold: number;
  seed: number;
}

/** Scores are softmax-compared, so scale matters: the reward in [0, 1] × 100, the scale of SPO's scorer (≈ 100·cos). */
export const REWARD_SCORE_SCALE = 100;

/** The prompts of a run: `count` scenes of the toy world's training split, seeded. */
export function trainingPrompts(count: number, seed: number): string[] {
  return sampleScenes(count, { split: "train", seed }).map(formatPrompt);
}

/** The trainer config for the settings (pixel space 3×16×16, a checkpoint after every iteration). */
export function toyTrainConfig(settings: ToyTrainSettings, sampleSize: number): Partial<SpoTrainConfig> {
  return {
    seed: settings.seed,
    epochs: settings.epochs,
    steps: settings.steps,
    poolSize: settings.poolSize,
    sampleBatchSize: settings.sampleBatchSize,
    trainBatchSize: settings.sampleBatchSize,
    learningRate: settings.learningRate,
    threshold: settings.threshold,
    divertStartStep: Math.floor(settings.steps / 5),
    latentShape: [3, sampleSize, sampleSize],
    checkpointEvery: 1,
    validationCount: 0,
  };
}

/** Images on the host, clamped to the reward's [−1, 1] (x̂₀ of a noisy step can overshoot it). */
async function hostImages(images: { toArray(): Promise<ArrayLike<number>> }): Promise<Float32Array> {
  return Float32Array.from(await images.toArray(), (v) => Math.min(1, Math.max(-1, v)));
}

/**
 * A trainer on `pipe`'s toy model; with `resume`, from the store's latest checkpoint (whose config
 * and prompts seed win over `settings`).
 */
export async function createToyTrainer(
  pipe: StableDiffusionPipeline,
  settings: ToyTrainSettings,
  store: CheckpointStore,
  options: Pick<SpoTrainerOptions, "onProgress" | "onMetrics" | "resume">,
): Promise<SpoTrainer> {
  const model = pipe.components as ToyModel;
  if (pipe.components.vae !== null)
    throw new RangeError("Cannot train on this model in the tab: the Train page trains pixel-space toy models (no VAE)");
  const unet = model.unet;
  const scorer = async (images: Parameters<typeof hostImages>[0], prompts: readonly string[]) =>
    rewardBatch(await hostImages(images), prompts).map((r) => r * REWARD_SCORE_SCALE);
  const reward = async (images: Parameters<typeof hostImages>[0], prompts: readonly string[]) =>
    rewardBatch(await hostImages(images), prompts);
  const stored = options.resume ? await store.latest() : null;
  // on resume the prompts must be the run's: the checkpoint's config holds its seed
  const config = toyTrainConfig(settings, unet.config.sampleSize);
  const trainer = await SpoTrainer.create(
    { unet, scheduler: DDIMScheduler.fromConfig(model.schedulerConfig), promptEncoder: toyPromptEncoder(model), scorer, decode: undefined },
    config,
    {
      prompts: trainingPrompts(settings.prompts, settings.seed),
      store,
      resume: stored !== null,
      reward,
      onProgress: options.onProgress,
      onMetrics: options.onMetrics,
    },
  );
  return trainer;
}

/** The before (LoRA off) and after (LoRA on) images of `prompts`, seeds 0…, [N, 3, H, W] floats in [−1, 1]. */
export async function beforeAfter(
  pipe: StableDiffusionPipeline,
  prompts: readonly string[],
  steps: number,
): Promise<{ before: Float32Array; after: Float32Array }> {
  const model = pipe.components as ToyModel;
  const seeds = prompts.map((_, i) => 1000 + i);
  const before = await withAdaptersDisabled({ unet: model.unet }, () => sampleToyImages(model, prompts, { seeds, steps }));
  const after = await sampleToyImages(model, prompts, { seeds, steps });
  return { before, after };
}

/** The trained LoRA as diffusers safetensors bytes (SPO's published layout). */
export async function loraBytes(trainer: SpoTrainer): Promise<Uint8Array> {
  const { tensors, metadata } = await saveLora(trainer.adapter, "diffusers");
  return serializeSafetensors(tensors, metadata);
}
