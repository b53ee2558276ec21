import {
  AdamW,
  backward,
  cast,
  clamp,
  clipGradNorm,
  concat,
  linearSchedule,
  LrScheduler,
  narrow,
  noGrad,
  type OptimizerState,
  type Tensor,
  tensor,
  tidy,
} from "@spo/wgpu-tensor";
import { SpmInputError } from "../errors.ts";
import { MAX_TIMESTEP } from "../model/spm_config.ts";
import type { StepPreferenceModel } from "../model/step_preference_model.ts";
import { preprocessImages } from "../preprocess/preprocess.ts";
import type { PromptTokenizer } from "../scoring/scorer.ts";
import { checkPairBatch, type PairBatch, type PairSource, type StepDenoiser } from "./pairs.ts";
import { preferenceLoss } from "./preference_loss.ts";
import { randomInt, seededRandom } from "./_random.ts";

/** Everything needed to continue a run exactly where it stopped. */
export interface SpmCheckpoint {
  /** Optimizer steps done. */
  step: number;
  /** The model's parameters by checkpoint name (host copies). */
  weights: Map<string, { shape: number[]; data: Float32Array }>;
  optimizer: OptimizerState;
}

/** One optimizer step's report. */
export interface SpmStepInfo {
  step: number;
  loss: number;
  lr: number;
  /** The gradient norm before clipping. */
  gradNorm: number;
}

/** Options of `trainStepPreferenceModel` (defaults: SPO's SD1.5 SPM recipe). */
export interface TrainSpmOptions {
  tokenizer: PromptTokenizer;
  pairs: PairSource;
  /** The frozen denoiser giving x̂0 at t; required for the step-aware model, unused by the step-agnostic one. */
  denoiser?: StepDenoiser;
  /** Optimizer steps to run in total (a resumed run continues up to this). */
  steps: number;
  /** Peak learning rate (3e-6). */
  lr?: number;
  /** AdamW weight decay (0.3). */
  weightDecay?: number;
  betas?: [number, number];
  /** Linear warm-up steps (500, at most `steps`), then linear decay to 0 at `steps`. */
  warmupSteps?: number;
  /** Gradient clipping by global norm (1.0); 0 turns it off. */
  maxGradNorm?: number;
  /** Seed of the timesteps and noise seeds (the same sequence after a resume). */
  seed?: number;
  /** Call `onCheckpoint` every this many steps (and after the last). */
  checkpointEvery?: number;
  onCheckpoint?: (checkpoint: SpmCheckpoint) => void | Promise<void>;
  /** Continue from a checkpoint (weights, optimizer state, step). */
  resumeFrom?: SpmCheckpoint;
  onStep?: (info: SpmStepInfo) => void;
}

/** What a training run returns. */
export interface SpmTrainResult {
  /** The loss of every step run in this call. */
  losses: number[];
  /** The step count reached. */
  step: number;
}

/** Host copies of a model's parameters and an optimizer's state. */
export async function spmCheckpoint(model: StepPreferenceModel, optimizer: AdamW, step: number): Promise<SpmCheckpoint> {
  const weights = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, p] of model.namedParameters()) weights.set(name, { shape: [...p.shape], data: Float32Array.from(await p.toArray()) });
  return { step, weights, optimizer: await optimizer.stateDict() };
}

/** The step's timesteps (t ~ U{0…999}, shared by both images of a pair) and noise seeds. */
export function pairTimesteps(
  seed: number,
  step: number,
  count: number,
  isTimeConditioned: boolean,
): { timesteps: number[]; noiseSeeds: number[] } {
  const random = seededRandom(seed, step);
  const timesteps = Array.from({ length: count }, () => (isTimeConditioned ? randomInt(random, MAX_TIMESTEP + 1) : 0));
  const noiseSeeds = Array.from({ length: count }, () => randomInt(random, 2 ** 31));
  return { timesteps, noiseSeeds };
}

/**
 * The images the model sees for a batch of pairs at their timesteps: rows 0…B−1 are the A sides,
 * B…2B−1 the B sides. Pairs at t = 0 keep their clean images; the others go through the frozen
 * denoiser together (A sides first, then B sides, each pair's two rows sharing t and the noise seed).
 * Then SPO's training pre-processing of each: clamp to [−1, 1] before the resize, resize, clamp,
 * normalise, cast to the model's dtype. No gradients.
 */
export async function pairPixels(
  model: StepPreferenceModel,
  batch: PairBatch,
  timesteps: readonly number[],
  noiseSeeds: readonly number[],
  denoiser: StepDenoiser | undefined,
): Promise<Tensor> {
  const count = timesteps.length;
  const { imageSize } = model.config.vision;
  const dtype = model.text_projection.weight.dtype;
  const prepare = (x: Tensor) =>
    noGrad(() =>
      tidy(() => {
        const prepared = preprocessImages(clamp(x, -1, 1), { imageSize, mean: model.config.imageMean, std: model.config.imageStd });
        return prepared.dtype === dtype ? prepared : cast(prepared, dtype);
      }),
    );
  const images = noGrad(() => concat([batch.imagesA, batch.imagesB], 0));
  const noisy = timesteps.flatMap((t, i) => (t > 0 ? [i] : []));
  if (noisy.length === 0) {
    const pixels = prepare(images);
    images.dispose();
    return pixels;
  }
  if (!denoiser) throw new SpmInputError("denoiser", "Cannot make x̂0 at t > 0: no denoiser was given");
  // the rows sent to the denoiser: the noisy pairs' A sides, then their B sides
  const rows = [...noisy, ...noisy.map((i) => i + count)];
  const selected =
    rows.length === 2 * count
      ? images
      : noGrad(() =>
          tidy(() =>
            concat(
              rows.map((r) => narrow(images, 0, r, 1)),
              0,
            ),
          ),
        );
  const pick = <T>(values: readonly T[]) => rows.map((r) => values[r % count]);
  const predicted = await noGrad(() =>
    denoiser({
      images: selected,
      prompts: pick(batch.prompts),
      timesteps: pick(timesteps),
      noiseSeeds: pick(noiseSeeds),
    }),
  );
  const noisyPixels = prepare(predicted);
  if (predicted !== selected) predicted.dispose();
  if (selected !== images) selected.dispose();
  if (rows.length === 2 * count) {
    images.dispose();
    return noisyPixels;
  }
  // put the clean pixels of the t = 0 pairs back in their places
  const cleanPixels = prepare(images);
  images.dispose();
  const position = new Map(rows.map((r, k) => [r, k]));
  const pixels = noGrad(() =>
    tidy(() =>
      concat(
        Array.from({ length: 2 * count }, (_, r) =>
          position.has(r) ? narrow(noisyPixels, 0, position.get(r)!, 1) : narrow(cleanPixels, 0, r, 1),
        ),
        0,
      ),
    ),
  );
  noisyPixels.dispose();
  cleanPixels.dispose();
  return pixels;
}

/**
 * Trains a step-aware preference model the way SPO trains its SPM: for each labelled pair, the same
 * t ~ U{0…999} and the same noise for both images; x̂0 from the frozen denoiser; scores
 * s = exp(logit_scale)·cos at t; soft-label cross-entropy with the tie offset (`preferenceLoss`);
 * AdamW (weight decay 0.3) with linear warm-up then linear decay; gradient clipping at 1.0; all
 * parameters trained. The step-agnostic model (`isTimeConditioned: false`) is trained on the clean
 * images only. Checkpoints carry the weights, the optimizer state and the step, and `resumeFrom`
 * continues a run exactly (timesteps and noise are drawn per step from the seed).
 *
 * @example
 * ```ts
 * const { losses } = await trainStepPreferenceModel(model, { tokenizer, pairs, denoiser, steps: 8000 });
 * ```
 */
export async function trainStepPreferenceModel(model: StepPreferenceModel, options: TrainSpmOptions): Promise<SpmTrainResult> {
  const { steps, tokenizer } = options;
  if (!Number.isInteger(steps) || steps <= 0)
    throw new SpmInputError("steps", `Cannot train for ${steps} steps: it must be a positive integer`);
  if (model.isTimeConditioned && !options.denoiser)
    throw new SpmInputError("denoiser", "Cannot train the step-aware model without a denoiser (x̂0 at t)");
  const seed = options.seed ?? 0;
  const maxGradNorm = options.maxGradNorm ?? 1;
  const warmupSteps = Math.min(options.warmupSteps ?? 500, steps);
  model.requiresGrad_(true);
  const optimizer = new AdamW(model.parameters(), {
    lr: options.lr ?? 3e-6,
    weightDecay: options.weightDecay ?? 0.3,
    betas: options.betas,
  });
  let step = 0;
  if (options.resumeFrom) {
    model.loadStateDict(options.resumeFrom.weights);
    optimizer.loadStateDict(options.resumeFrom.optimizer);
    step = options.resumeFrom.step;
  }
  const scheduler = new LrScheduler(optimizer, linearSchedule(options.lr ?? 3e-6, warmupSteps, steps));
  for (let i = 0; i < step; i++) scheduler.step();
  const losses: number[] = [];
  try {
    while (step < steps) {
      const batch = await options.pairs(step);
      const count = checkPairBatch(batch, model.config.vision.numChannels);
      const { timesteps, noiseSeeds } = pairTimesteps(seed, step, count, model.isTimeConditioned);
      const pixels = await pairPixels(model, batch, timesteps, noiseSeeds, options.denoiser);
      batch.imagesA.dispose();
      batch.imagesB.dispose();
      const rows = tokenizer.encodeBatch([...batch.prompts, ...batch.prompts], { maxLength: model.config.text.maxPositionEmbeddings });
      const ids = tensor(Int32Array.from(rows.flat()), [rows.length, rows[0].length], { dtype: "i32", device: pixels.device });
      const lr = optimizer.lr;
      const { loss, gradNorm } = tidy(() => {
        const scores = model.pairScores(pixels, ids, [...timesteps, ...timesteps]);
        const value = preferenceLoss(narrow(scores, 0, 0, count), narrow(scores, 0, count, count), batch.labels);
        backward(value);
        const norm = maxGradNorm > 0 ? clipGradNorm(model.parameters(), maxGradNorm) : undefined;
        return { loss: value, gradNorm: norm };
      });
      optimizer.step();
      scheduler.step();
      optimizer.zeroGrad();
      pixels.dispose();
      ids.dispose();
      const lossValue = (await loss.toArray())[0];
      const normValue = gradNorm ? (await gradNorm.toArray())[0] : Number.NaN;
      loss.dispose();
      gradNorm?.dispose();
      step++;
      losses.push(lossValue);
      options.onStep?.({ step, loss: lossValue, lr, gradNorm: normValue });
      const every = options.checkpointEvery;
      if (options.onCheckpoint && ((every && step % every === 0) || step === steps)) {
        await options.onCheckpoint(await spmCheckpoint(model, optimizer, step));
      }
    }
  } finally {
    optimizer.dispose();
  }
  return { losses, step };
}
