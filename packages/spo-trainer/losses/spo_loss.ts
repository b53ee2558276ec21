/**
 * SPO's clipped-ratio DPO loss on single denoising transitions (train_spo.py of the reference code):
 *
 *   r = clamp(exp(log π_θ(x_{t−1}|x_t,c) − log π_ref(x_{t−1}|x_t,c)), 1 − ε, 1 + ε)
 *   L = mean_batch(−log σ(β·log r_w − β·log r_l))
 *
 * with the exact Gaussian log-likelihoods of `transitionLogProb`, both built from CFG-combined ε̂.
 * The clamp is two-sided on the ratio itself (not PPO's min), so a pair whose ratio leaves
 * [1 − ε, 1 + ε] in either direction stops contributing gradient. Winner and loser share x_t, t and
 * the prompt, so one policy ε̂ and one reference ε̂ serve both. The log-ratio is limited to ±80 before
 * the exponential: a policy sampled far from the reference (late steps, σ ≈ 0.02) easily has
 * log-ratios past f32's e^88, and WGSL leaves an overflowing exp undefined. Nothing changes
 * after the clamp: a limited ratio is still far outside [1 − ε, 1 + ε] and gets no gradient.
 *
 * @module
 */

import { exp, log, mean, mul, neg, sigmoid, sub, type Tensor, tidy } from "@spo/wgpu-tensor";
import { clamp } from "@spo/wgpu-tensor";
import { type TransitionSchedule, transitionLogProb } from "./transition_log_prob.ts";

/** SPO's loss settings; the defaults are the paper's SD1.5 values. */
export interface SpoLossOptions {
  /** DPO β (default 10). */
  beta?: number;
  /** Ratio clip ε: ratios are clamped to [1 − ε, 1 + ε] (default 0.1). */
  clipEps?: number;
  /** DDIM η of the transitions (default 1). */
  eta?: number;
}

/** The inputs of one minibatch of pairs (all [B, C, H, W] except `timesteps`). */
export interface SpoLossInputs {
  /** CFG-combined ε̂ of the policy (LoRA on) at (x_t, t, c); carries the gradient. */
  policyEps: Tensor;
  /** CFG-combined ε̂ of the reference (LoRA off); a constant. */
  refEps: Tensor;
  /** The shared parent x_t. */
  sample: Tensor;
  /** x_{t−1} of the preferred child. */
  winner: Tensor;
  /** x_{t−1} of the rejected child. */
  loser: Tensor;
  /** The parent's timestep per row. */
  timesteps: readonly number[];
}

/** The loss and every intermediate the reference code logs. */
export interface SpoLossOutput {
  /** Scalar loss. */
  loss: Tensor;
  logpWin: Tensor;
  logpWinRef: Tensor;
  logpLose: Tensor;
  logpLoseRef: Tensor;
  /** Clamped ratios [B]. */
  ratioWin: Tensor;
  ratioLose: Tensor;
  /** Ratios before the clip [B] (to count clamped rows), within e^±80 (`LOG_RATIO_LIMIT`). */
  rawRatioWin: Tensor;
  rawRatioLose: Tensor;
}

export const SPO_LOSS_DEFAULTS = { beta: 10, clipEps: 0.1, eta: 1 } as const;

/** |log π_θ − log π_ref| beyond which a ratio is held (e^80 ≈ 5.5e34 stays finite in f32). */
export const LOG_RATIO_LIMIT = 80;

/**
 * SPO's loss for a minibatch of pairs. The caller disposes the outputs.
 *
 * @example
 * ```ts
 * const { loss } = spoLoss(scheduler, { policyEps, refEps, sample: xT, winner, loser, timesteps: [751, 51] });
 * backward(loss);
 * ```
 */
export function spoLoss(schedule: TransitionSchedule, inputs: SpoLossInputs, options: SpoLossOptions = {}): SpoLossOutput {
  const beta = options.beta ?? SPO_LOSS_DEFAULTS.beta;
  const clipEps = options.clipEps ?? SPO_LOSS_DEFAULTS.clipEps;
  const eta = options.eta ?? SPO_LOSS_DEFAULTS.eta;
  if (!(beta > 0)) throw new RangeError(`Cannot compute the SPO loss with beta ${beta}: it must be > 0`);
  if (!(clipEps > 0 && clipEps < 1)) throw new RangeError(`Cannot compute the SPO loss with clipEps ${clipEps}: it must be in (0, 1)`);
  const { policyEps, refEps, sample, winner, loser, timesteps } = inputs;
  return tidy(() => {
    const lp = (eps: Tensor, target: Tensor) => transitionLogProb(schedule, eps, timesteps, sample, target, eta);
    const logpWin = lp(policyEps, winner);
    const logpWinRef = lp(refEps, winner);
    const logpLose = lp(policyEps, loser);
    const logpLoseRef = lp(refEps, loser);
    const ratioOf = (logp: Tensor, logpRef: Tensor) => exp(clamp(sub(logp, logpRef), -LOG_RATIO_LIMIT, LOG_RATIO_LIMIT));
    const rawRatioWin = ratioOf(logpWin, logpWinRef);
    const rawRatioLose = ratioOf(logpLose, logpLoseRef);
    const ratioWin = clamp(rawRatioWin, Math.fround(1 - clipEps), Math.fround(1 + clipEps));
    const ratioLose = clamp(rawRatioLose, Math.fround(1 - clipEps), Math.fround(1 + clipEps));
    const margin = sub(mul(log(ratioWin), beta), mul(log(ratioLose), beta));
    const loss = mean(neg(log(sigmoid(margin))));
    return { loss, logpWin, logpWinRef, logpLose, logpLoseRef, ratioWin, ratioLose, rawRatioWin, rawRatioLose };
  });
}

/** How many of the raw ratios lie outside [1 − ε, 1 + ε] (host arrays). */
export function countClamped(rawRatios: ArrayLike<number>, clipEps: number = SPO_LOSS_DEFAULTS.clipEps): number {
  const lo = Math.fround(1 - clipEps);
  const hi = Math.fround(1 + clipEps);
  let count = 0;
  for (let i = 0; i < rawRatios.length; i++) if (rawRatios[i] < lo || rawRatios[i] > hi) count++;
  return count;
}
