/**
 * The denoiser the sampler and the trainer share: a conditional noise predictor (the UNet) run with
 * classifier-free guidance on a doubled batch, the unconditional block first (diffusers' order).
 *
 * @module
 */

import { classifierFreeGuidance } from "@spo/diffusion-unet";
import { concat, narrow, type Tensor, tidy } from "@spo/wgpu-tensor";
import { type AlphaSchedule, epsilonFromOutput, type PredictionType } from "../losses/prediction_type.ts";

/** What the sampler needs of a UNet: its prediction (ε̂, v̂ or x̂₀) for a batch at one timestep per row, given a context. */
export interface NoisePredictor {
  forward(sample: Tensor, timesteps: readonly number[], encoderHiddenStates: Tensor): Tensor;
}

/** Text conditioning: one context per prompt ([B, S, D]) and the unconditional one. */
export interface PromptEncoder {
  /** [prompts.length, S, D]; the caller disposes it. */
  encode(prompts: readonly string[]): Tensor;
}

/**
 * CFG ε̂ = ε_u + s·(ε_c − ε_u) from one UNet call on [x; x] with [uncond; cond] contexts. With
 * `prediction` (a v- or x₀-predicting UNet), the guided output is converted to ε̂ by its schedule.
 *
 * @example
 * ```ts
 * const eps = guidedEpsilon(unet, x, [751, 751], cond, uncond, 5);
 * ```
 */
export function guidedEpsilon(
  model: NoisePredictor,
  sample: Tensor,
  timesteps: readonly number[],
  cond: Tensor,
  uncond: Tensor,
  scale: number,
  prediction?: { schedule: AlphaSchedule; predictionType: PredictionType },
): Tensor {
  const batch = sample.shape[0];
  if (cond.shape[0] !== batch || uncond.shape[0] !== batch) {
    throw new RangeError(
      `Cannot run guided denoising: ${batch} samples, ${cond.shape[0]} conditional and ${uncond.shape[0]} unconditional contexts`,
    );
  }
  if (timesteps.length !== batch) throw new RangeError(`Cannot run guided denoising: ${timesteps.length} timesteps for ${batch} samples`);
  return tidy(() => {
    let guided: Tensor;
    if (scale === 1) guided = model.forward(sample, timesteps, cond);
    else {
      const out = model.forward(concat([sample, sample], 0), [...timesteps, ...timesteps], concat([uncond, cond], 0));
      guided = classifierFreeGuidance(narrow(out, 0, 0, batch), narrow(out, 0, batch, batch), scale);
    }
    return prediction ? epsilonFromOutput(prediction.schedule, prediction.predictionType, guided, timesteps, sample) : guided;
  });
}

/** `times` copies of `t` along axis 0 (k-major: copy i holds rows i·B … i·B + B − 1). */
export function repeatRows(t: Tensor, times: number): Tensor {
  return times === 1 ? concat([t], 0) : concat(new Array<Tensor>(times).fill(t), 0);
}
