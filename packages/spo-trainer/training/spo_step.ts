/**
 * One SPO training minibatch: the policy's CFG ε̂ (LoRA on, with gradient) and the reference's
 * (the same UNet with every adapter switched off, no gradient) at the shared parents x_t, the
 * clipped DPO loss on the winner and loser transitions, and backward. One policy pass and one
 * reference pass serve both children because they share x_t, t and the prompt.
 *
 * @module
 */

import { backward, concat, type Module, mul, noGrad, reshape, type Tensor, tidy } from "@spo/wgpu-tensor";
import { withAdaptersDisabled } from "@spo/lora";
import { countClamped, spoLoss, type SpoLossOptions } from "../losses/spo_loss.ts";
import { type PredictionType, resolvePredictionType } from "../losses/prediction_type.ts";
import type { TransitionSchedule } from "../losses/transition_log_prob.ts";
import { guidedEpsilon, type NoisePredictor, type PromptEncoder } from "../sampler/guided_denoiser.ts";
import type { SpoPair } from "../sampler/spo_sampler.ts";
import { stackHost } from "./pair_batches.ts";

/** A UNet that takes adapters (a `Module`) and predicts noise. */
export type TrainableDenoiser = Module & NoisePredictor;

/** What one minibatch measured (host numbers). */
export interface MinibatchStats {
  loss: number;
  pairs: number;
  /** Ratios (winner and loser) outside [1 − ε, 1 + ε]. */
  clamped: number;
  ratios: number;
}

export interface SpoStepOptions extends SpoLossOptions {
  /** CFG scale inside the likelihood (must equal sampling's; default 5). */
  guidanceScale?: number;
  /** Multiplies the loss before backward (1 / gradient-accumulation steps). */
  lossScale?: number;
  /** What the UNet predicts (default: the scheduler config's `predictionType`, else "epsilon"). */
  predictionType?: PredictionType;
}

/**
 * Loss and gradients of one minibatch of pairs; the gradients accumulate into the LoRA
 * parameters' `.grad`. Returns the unscaled loss.
 *
 * @example
 * ```ts
 * const stats = await spoMinibatchStep({ unet, scheduler, promptEncoder }, pairs.slice(0, 10), [4, 64, 64]);
 * optimizer.step(); optimizer.zeroGrad();
 * ```
 */
export async function spoMinibatchStep(
  models: { unet: TrainableDenoiser; scheduler: TransitionSchedule; promptEncoder: PromptEncoder },
  pairs: readonly SpoPair[],
  latentShape: readonly number[],
  options: SpoStepOptions = {},
): Promise<MinibatchStats> {
  if (pairs.length === 0) throw new RangeError("Cannot train on an empty minibatch of pairs");
  const { unet, scheduler, promptEncoder } = models;
  const scale = options.guidanceScale ?? 5;
  const prediction = { schedule: scheduler, predictionType: resolvePredictionType(options.predictionType, scheduler) };
  const timesteps = pairs.map((p) => p.timestep);
  const prompts = pairs.map((p) => p.prompt);
  const sample = stackHost(
    pairs.map((p) => p.sample),
    latentShape,
  );
  const winner = stackHost(
    pairs.map((p) => p.winner),
    latentShape,
  );
  const loser = stackHost(
    pairs.map((p) => p.loser),
    latentShape,
  );
  const cond = noGrad(() => promptEncoder.encode(prompts));
  const uncond = noGrad(() => promptEncoder.encode(prompts.map(() => "")));
  const owned: Tensor[] = [sample, winner, loser, cond, uncond];
  try {
    const refEps = noGrad(() => withAdaptersDisabled(unet, () => guidedEpsilon(unet, sample, timesteps, cond, uncond, scale, prediction)));
    owned.push(refEps);
    const policyEps = guidedEpsilon(unet, sample, timesteps, cond, uncond, scale, prediction);
    owned.push(policyEps);
    const out = spoLoss(scheduler, { policyEps, refEps, sample, winner, loser, timesteps }, options);
    owned.push(...Object.values(out));
    // one readback: the raw ratios, the four log-probs and the loss
    const b = pairs.length;
    const packed = noGrad(() =>
      tidy(() =>
        concat([out.rawRatioWin, out.rawRatioLose, out.logpWin, out.logpWinRef, out.logpLose, out.logpLoseRef, reshape(out.loss, [1])]),
      ),
    );
    const host = await packed.toArray();
    packed.dispose();
    const rw = host.subarray(0, b);
    const rl = host.subarray(b, 2 * b);
    // WGSL's clamp maps NaN into [lo, hi] (torch's keeps NaN), so the ratios cannot show a NaN
    // log-prob: the log-probs themselves must be finite, or the run stops
    const allFinite = host.subarray(2 * b, 6 * b).every(Number.isFinite);
    const lossValue = allFinite ? host[6 * b]! : Number.NaN;
    if (Number.isFinite(lossValue) && out.loss.requiresGrad) {
      const scaled = tidy(() => mul(out.loss, options.lossScale ?? 1));
      backward(scaled);
      scaled.dispose();
    }
    return {
      loss: lossValue,
      pairs: pairs.length,
      clamped: countClamped(rw, options.clipEps) + countClamped(rl, options.clipEps),
      ratios: 2 * pairs.length,
    };
  } finally {
    for (const t of owned) if (!t.isDisposed) t.dispose();
  }
}
