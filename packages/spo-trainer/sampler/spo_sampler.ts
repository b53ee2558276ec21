/**
 * SPO's pooled sampler (RockeyCoss/SPO multi_sample_pipeline.py): CFG + DDIM (η = 1) sampling of a
 * batch of prompts, plain single-sample steps until `divertStartStep`, then at every step a pool of
 * k children of the current parent. Each child is scored on its own x̂₀ at its own timestep (the
 * last step's children on their decoded latents at time 0); the best and the worst child form a
 * pair, kept when the softmax gap exceeds the threshold; the next parent is drawn uniformly at
 * random (or greedily). The pairs are what the clipped DPO loss trains on.
 *
 * @module
 */

import { noGrad, type Tensor, tidy } from "@spo/wgpu-tensor";
import type { DDIMScheduler } from "@spo/diffusion-unet";
import { type PredictionType, resolvePredictionType } from "../losses/prediction_type.ts";
import { transitionMean } from "../losses/transition_log_prob.ts";
import type { StepScorer } from "../scoring/step_scorer.ts";
import { type NormalSource, pickChildren, sampleChildren } from "./children.ts";
import { guidedEpsilon, type NoisePredictor, type PromptEncoder, repeatRows } from "./guided_denoiser.ts";
import { comparePreferences } from "./preference_compare.ts";
import { resampleParents, type UniformSource } from "./resampler.ts";

/** One stored training transition: the shared parent, both children, the parent's timestep. */
export interface SpoPair {
  /** x_t, host values of one latent. */
  sample: Float32Array;
  /** x_{t−1} of the preferred child. */
  winner: Float32Array;
  /** x_{t−1} of the rejected child. */
  loser: Float32Array;
  /** The parent's timestep (the transition's t). */
  timestep: number;
  prompt: string;
  /** Step index of the parent in the schedule. */
  step: number;
  scoreWin: number;
  scoreLose: number;
}

export interface SpoSamplerOptions {
  /** DDIM steps (default 20). */
  steps?: number;
  /** CFG scale in sampling (default 5; training must use the same). */
  guidanceScale?: number;
  /** DDIM η (default 1). */
  eta?: number;
  /** Steps before branching starts (default 4). */
  divertStartStep?: number;
  /** Children per parent k (default 4). */
  poolSize?: number;
  /** Softmax-gap threshold (default 0.3). */
  threshold?: number;
  /** Pick the best child as the next parent instead of a uniform draw (ablation; default false). */
  greedy?: boolean;
  /** Latent shape [C, H, W] (default [4, 64, 64]). */
  latentShape?: readonly number[];
  /** Latents → images in [−1, 1] for the scorer (SD: VAE decode of x/0.18215); default identity. */
  decode?: (latents: Tensor) => Tensor;
  /** What the UNet predicts (default: the scheduler config's `predictionType`, else "epsilon"). */
  predictionType?: PredictionType;
  /** Called after every step. */
  onStep?: (info: { step: number; steps: number; timestep: number }) => void | Promise<void>;
}

/** What a sampler needs: the policy UNet, its scheduler, the text conditioning, the scorer, a seeded RNG. */
export interface SpoSamplerModels {
  unet: NoisePredictor;
  scheduler: DDIMScheduler;
  promptEncoder: PromptEncoder;
  scorer: StepScorer;
  /** Noise and resampler draws (a `RandomGenerator`); its state decides everything random. */
  generator: NormalSource & UniformSource;
}

/** The pairs of one sampled batch and what the metrics need. */
export interface SpoSampleResult {
  pairs: SpoPair[];
  /** Pool comparisons made (one per prompt per branched step). */
  offered: number;
  /** Mean of every child score. */
  meanScore: number;
  /** Mean score of the final children (time 0). */
  meanFinalScore: number;
  /** The final latents of the sampled trajectories [B, …] (the caller disposes them). */
  latents: Tensor;
  latentShape: number[];
}

export const SPO_SAMPLER_DEFAULTS = {
  steps: 20,
  guidanceScale: 5,
  eta: 1,
  divertStartStep: 4,
  poolSize: 4,
  threshold: 0.3,
  greedy: false,
  latentShape: [4, 64, 64],
} as const;

function checkOptions(options: Required<Omit<SpoSamplerOptions, "decode" | "onStep" | "predictionType">>): void {
  const { steps, divertStartStep, poolSize, threshold } = options;
  if (!Number.isInteger(steps) || steps < 1)
    throw new RangeError(`Cannot sample SPO pairs with ${steps} steps: it must be a positive integer`);
  if (!Number.isInteger(divertStartStep) || divertStartStep < 0 || divertStartStep >= steps) {
    throw new RangeError(`Cannot sample SPO pairs with divertStartStep ${divertStartStep}: it must be an integer in [0, ${steps - 1}]`);
  }
  if (!Number.isInteger(poolSize) || poolSize < 2)
    throw new RangeError(`Cannot sample SPO pairs with poolSize ${poolSize}: a pool needs at least 2 children`);
  if (!(threshold >= 0 && threshold < 1)) throw new RangeError(`Cannot sample SPO pairs with threshold ${threshold}: it must be in [0, 1)`);
}

/**
 * Samples one batch of prompts the SPO way and returns the kept pairs.
 *
 * @example
 * ```ts
 * const { pairs } = await sampleSpoPairs({ unet, scheduler, promptEncoder, scorer, generator }, ["a cat", "a dog"]);
 * ```
 */
export async function sampleSpoPairs(
  models: SpoSamplerModels,
  prompts: readonly string[],
  options: SpoSamplerOptions = {},
): Promise<SpoSampleResult> {
  const o = { ...SPO_SAMPLER_DEFAULTS, ...options };
  checkOptions(o);
  const prediction = { schedule: models.scheduler, predictionType: resolvePredictionType(options.predictionType, models.scheduler) };
  if (prompts.length === 0) throw new RangeError("Cannot sample SPO pairs for an empty batch of prompts");
  const { unet, scheduler, promptEncoder, scorer, generator } = models;
  const k = o.poolSize;
  const batch = prompts.length;
  const decode = o.decode ?? ((x: Tensor) => x);
  scheduler.setTimesteps(o.steps);
  const timesteps = scheduler.timesteps;
  const latentShape = [...o.latentShape];
  const pairs: SpoPair[] = [];
  const poolPrompts = new Array<string[]>(k).fill([...prompts]).flat();
  let offered = 0;
  let scoreSum = 0;
  let scoreCount = 0;
  let finalScoreSum = 0;

  const cond = noGrad(() => promptEncoder.encode(prompts));
  const uncond = noGrad(() => promptEncoder.encode(new Array<string>(batch).fill("")));
  const poolCond = repeatRows(cond, k);
  const poolUncond = repeatRows(uncond, k);
  let parent = generator.randn([batch, ...latentShape]);
  // the parent's CFG ε̂ at its timestep, when already computed while scoring it as a child
  let parentEps: Tensor | null = null;
  try {
    for (let i = 0; i < timesteps.length; i++) {
      const t = timesteps[i];
      const eps =
        parentEps ?? noGrad(() => guidedEpsilon(unet, parent, new Array<number>(batch).fill(t), cond, uncond, o.guidanceScale, prediction));
      parentEps = null;
      if (i < o.divertStartStep) {
        const { children, noise, mean } = sampleChildren(scheduler, eps, t, parent, 1, generator, o.eta);
        for (const x of [eps, noise, mean]) x.dispose();
        parent.dispose();
        parent = children;
        await o.onStep?.({ step: i, steps: timesteps.length, timestep: t });
        continue;
      }
      const drawn = sampleChildren(scheduler, eps, t, parent, k, generator, o.eta);
      eps.dispose();
      drawn.noise.dispose();
      drawn.mean.dispose();
      const children = drawn.children;
      const isLast = i === timesteps.length - 1;
      const scoreTime = isLast ? 0 : timesteps[i + 1];
      // each child's own x̂₀ at its own timestep (this ε̂ is reused for the chosen parent next step)
      const childEps = isLast
        ? null
        : noGrad(() =>
            guidedEpsilon(unet, children, new Array<number>(k * batch).fill(scoreTime), poolCond, poolUncond, o.guidanceScale, prediction),
          );
      const images = noGrad(() =>
        tidy(() => {
          if (childEps === null) return decode(children);
          const { predOriginalSample, mean } = transitionMean(
            scheduler,
            childEps,
            new Array<number>(k * batch).fill(scoreTime),
            children,
            o.eta,
          );
          mean.dispose();
          return decode(predOriginalSample);
        }),
      );
      const scores = await scorer.score(images, poolPrompts, new Array<number>(k * batch).fill(scoreTime));
      if (images !== children) images.dispose();
      for (const s of scores) scoreSum += s;
      scoreCount += scores.length;
      if (isLast) for (const s of scores) finalScoreSum += s;

      const compared = comparePreferences(scores, batch, o.threshold);
      offered += batch;
      if (compared.valid.some((v) => v === 1)) {
        // one readback of the parents and one of the children per step, however many pairs
        const parentHost = Float32Array.from(await parent.toArray());
        const childHost = Float32Array.from(await children.toArray());
        const size = parentHost.length / batch;
        const row = (values: Float32Array, r: number) => values.slice(r * size, (r + 1) * size);
        for (let b = 0; b < batch; b++) {
          if (compared.valid[b] !== 1) continue;
          const w = compared.best[b];
          const l = compared.worst[b];
          pairs.push({
            sample: row(parentHost, b),
            winner: row(childHost, w * batch + b),
            loser: row(childHost, l * batch + b),
            timestep: t,
            prompt: prompts[b],
            step: i,
            scoreWin: scores[w * batch + b],
            scoreLose: scores[l * batch + b],
          });
        }
      }
      const next = await resampleParents(scores, batch, k, { generator, greedy: o.greedy });
      parent.dispose();
      parent = pickChildren(children, next, batch);
      if (childEps !== null) {
        parentEps = pickChildren(childEps, next, batch);
        childEps.dispose();
      }
      children.dispose();
      await o.onStep?.({ step: i, steps: timesteps.length, timestep: t });
    }
  } catch (error) {
    parent.dispose();
    throw error;
  } finally {
    for (const t of [cond, uncond, poolCond, poolUncond]) t.dispose();
    (parentEps as Tensor | null)?.dispose();
  }
  return {
    pairs,
    offered,
    meanScore: scoreCount > 0 ? scoreSum / scoreCount : NaN,
    meanFinalScore: finalScoreSum / (k * batch),
    latents: parent,
    latentShape,
  };
}
