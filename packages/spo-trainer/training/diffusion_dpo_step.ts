/**
 * One Diffusion-DPO minibatch (the baseline): each offline pair's winner and loser latents are
 * forward-noised with the same noise at the same random t ∈ [0, T), the policy (LoRA on) and the
 * reference (adapters off) predict the noise of both (no CFG, conditional only), and the MSE
 * surrogate loss with β = 5000 is backpropagated.
 *
 * @module
 */

import { backward, concat, mul, narrow, noGrad, type Tensor, tidy } from "@spo/wgpu-tensor";
import type { DDIMScheduler } from "@spo/diffusion-unet";
import { withAdaptersDisabled } from "@spo/lora";
import { diffusionDpoLoss } from "../losses/diffusion_dpo_loss.ts";
import { type PredictionType, resolvePredictionType, trainingTarget } from "../losses/prediction_type.ts";
import type { PromptEncoder } from "../sampler/guided_denoiser.ts";
import type { NormalSource } from "../sampler/children.ts";
import type { UniformSource } from "../sampler/resampler.ts";
import { stackHost } from "./pair_batches.ts";
import type { MinibatchStats, TrainableDenoiser } from "./spo_step.ts";

/** One offline preference pair: clean latents (or pixels for a pixel-space model) of both images. */
export interface PreferencePair {
  prompt: string;
  winner: Float32Array;
  loser: Float32Array;
}

/**
 * Loss and gradients of one Diffusion-DPO minibatch; returns the unscaled loss and, as `clamped`,
 * the number of pairs whose implicit margin is negative (the policy prefers the loser).
 *
 * @example
 * ```ts
 * await diffusionDpoMinibatchStep({ unet, scheduler, promptEncoder, generator }, pairs, [4, 64, 64]);
 * ```
 */
export async function diffusionDpoMinibatchStep(
  models: { unet: TrainableDenoiser; scheduler: DDIMScheduler; promptEncoder: PromptEncoder; generator: NormalSource & UniformSource },
  pairs: readonly PreferencePair[],
  latentShape: readonly number[],
  options: { beta?: number; lossScale?: number; predictionType?: PredictionType } = {},
): Promise<MinibatchStats> {
  if (pairs.length === 0) throw new RangeError("Cannot train on an empty minibatch of pairs");
  const { unet, scheduler, promptEncoder, generator } = models;
  const predictionType = resolvePredictionType(options.predictionType, scheduler);
  const m = pairs.length;
  const total = scheduler.config.numTrainTimesteps;
  const draw = generator.rand([m]);
  const u = await draw.toArray();
  draw.dispose();
  const t = Array.from(u, (v) => Math.min(Math.floor(v * total), total - 1));
  const timesteps = [...t, ...t];
  const owned: Tensor[] = [];
  try {
    const noise = generator.randn([m, ...latentShape]);
    owned.push(noise);
    const clean = tidy(() =>
      concat(
        [
          stackHost(
            pairs.map((p) => p.winner),
            latentShape,
          ),
          stackHost(
            pairs.map((p) => p.loser),
            latentShape,
          ),
        ],
        0,
      ),
    );
    const bothNoise = concat([noise, noise], 0);
    owned.push(clean, bothNoise);
    const noisy = scheduler.addNoise(clean, bothNoise, timesteps);
    const cond = noGrad(() => promptEncoder.encode(pairs.map((p) => p.prompt)));
    const context = concat([cond, cond], 0);
    owned.push(noisy, cond, context);
    const ref = noGrad(() => withAdaptersDisabled(unet, () => unet.forward(noisy, timesteps, context)));
    const policy = unet.forward(noisy, timesteps, context);
    owned.push(ref, policy);
    // the target the model was trained on: ε, v or x₀ of each image (shared noise, shared t)
    const target = tidy(() => trainingTarget(scheduler, predictionType, clean, bothNoise, timesteps));
    if (target !== bothNoise) owned.push(target);
    const out = tidy(() =>
      diffusionDpoLoss(
        {
          policyWin: narrow(policy, 0, 0, m),
          policyLose: narrow(policy, 0, m, m),
          refWin: narrow(ref, 0, 0, m),
          refLose: narrow(ref, 0, m, m),
          noiseWin: narrow(target, 0, 0, m),
          noiseLose: narrow(target, 0, m, m),
        },
        { beta: options.beta },
      ),
    );
    owned.push(...Object.values(out));
    const lossValue = await out.loss.item();
    if (Number.isFinite(lossValue) && out.loss.requiresGrad) {
      const scaled = tidy(() => mul(out.loss, options.lossScale ?? 1));
      backward(scaled);
      scaled.dispose();
    }
    const margins = await out.margin.toArray();
    return { loss: lossValue, pairs: m, clamped: Array.from(margins).filter((v) => v < 0).length, ratios: m };
  } finally {
    for (const x of owned) if (!x.isDisposed) x.dispose();
  }
}
