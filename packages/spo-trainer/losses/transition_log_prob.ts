/**
 * The exact Gaussian log-likelihood of one DDIM (η = 1) transition x_t → x_{t−1}, as SPO's
 * `ddim_step_with_logprob` computes it: the previous timestep is clamped to [0, T − 1] (so the last
 * step t = 1 lands on ᾱ₀, whatever `set_alpha_to_one` says), and the Gaussian log-density is
 * averaged, not summed, over every non-batch element, in f32, one timestep per batch row.
 *
 * @module
 */

import { add, detach, div, mean, mul, neg, square, sub, type Tensor, tensor, tidy } from "@spo/wgpu-tensor";

/** The scheduler surface the log-prob needs (`DDIMScheduler` of @spo/diffusion-unet has it). */
export interface TransitionSchedule {
  readonly alphasCumprod: Float32Array;
  readonly numInferenceSteps: number | null;
  readonly config: { readonly numTrainTimesteps: number };
}

/** The host constants of one transition from `timestep` (float32 values, as torch computes them). */
export interface TransitionCoefficients {
  timestep: number;
  /** clamp(t − T/n, 0, T − 1). */
  prevTimestep: number;
  sqrtAlphaProdT: number;
  sqrtBetaProdT: number;
  sqrtAlphaProdTPrev: number;
  /** σ_t = η·√((1 − ᾱ_prev)/(1 − ᾱ_t)·(1 − ᾱ_t/ᾱ_prev)). */
  stdDevT: number;
  /** √(1 − ᾱ_prev − σ_t²). */
  directionCoefficient: number;
}

const f32 = Math.fround;
/** log √(2π) in float32, as `torch.log(torch.sqrt(2 * torch.as_tensor(math.pi)))`. */
const LOG_SQRT_2PI = f32(Math.log(f32(Math.sqrt(f32(2 * f32(Math.PI))))));

/** SPO's previous timestep: t − T/n clamped to [0, T − 1]. */
export function spoPreviousTimestep(schedule: TransitionSchedule, timestep: number): number {
  const steps = schedule.numInferenceSteps;
  if (steps === null) throw new Error("Cannot compute a DDIM transition: call setTimesteps(numInferenceSteps) on the scheduler first");
  const total = schedule.config.numTrainTimesteps;
  if (!Number.isInteger(timestep) || timestep < 0 || timestep >= total) {
    throw new RangeError(`Cannot compute a DDIM transition from timestep ${timestep}: it must be an integer in [0, ${total - 1}]`);
  }
  return Math.min(Math.max(timestep - Math.floor(total / steps), 0), total - 1);
}

/** The per-step constants of SPO's DDIM transition (float32 arithmetic). */
export function transitionCoefficients(schedule: TransitionSchedule, timestep: number, eta = 1): TransitionCoefficients {
  if (!(eta > 0))
    throw new RangeError(`Cannot compute a DDIM transition log-prob with eta ${eta}: it must be > 0 (eta 0 is deterministic)`);
  const prevTimestep = spoPreviousTimestep(schedule, timestep);
  const alphaProdT = schedule.alphasCumprod[timestep];
  const alphaProdTPrev = schedule.alphasCumprod[prevTimestep];
  const betaProdT = f32(1 - alphaProdT);
  const betaProdTPrev = f32(1 - alphaProdTPrev);
  const variance = f32(f32(betaProdTPrev / betaProdT) * f32(1 - f32(alphaProdT / alphaProdTPrev)));
  const stdDevT = f32(f32(eta) * f32(Math.sqrt(variance)));
  return {
    timestep,
    prevTimestep,
    sqrtAlphaProdT: f32(Math.sqrt(alphaProdT)),
    sqrtBetaProdT: f32(Math.sqrt(betaProdT)),
    sqrtAlphaProdTPrev: f32(Math.sqrt(alphaProdTPrev)),
    stdDevT,
    directionCoefficient: f32(Math.sqrt(Math.max(f32(f32(1 - alphaProdTPrev) - f32(stdDevT * stdDevT)), 0))),
  };
}

/** What `transitionMean` returns: μ and x̂₀ (tensors) and σ_t per row (host numbers). */
export interface TransitionMean {
  /** x̂₀ = (x_t − √(1 − ᾱ_t)·ε̂)/√ᾱ_t (no clipping: SD1.5's clip_sample is false). */
  predOriginalSample: Tensor;
  /** μ = √ᾱ_prev·x̂₀ + √(1 − ᾱ_prev − σ_t²)·ε̂. */
  mean: Tensor;
  stdDevT: number[];
  coefficients: TransitionCoefficients[];
}

/** [B, 1, …, 1] tensor of per-row constants broadcasting over `like`. */
export function rowConstant(values: readonly number[], like: Tensor): Tensor {
  return tensor(Float32Array.from(values), [values.length, ...new Array<number>(like.ndim - 1).fill(1)], { device: like.device });
}

function checkRows(action: string, timesteps: readonly number[], tensors: Record<string, Tensor>): number {
  const entries = Object.entries(tensors);
  const [firstName, first] = entries[0];
  for (const [name, t] of entries) {
    if (t.shape.join(",") !== first.shape.join(",")) {
      throw new RangeError(`Cannot ${action}: ${name} has shape [${t.shape}], ${firstName} has [${first.shape}]`);
    }
  }
  const batch = first.shape[0] ?? 1;
  if (first.ndim < 2)
    throw new RangeError(`Cannot ${action}: ${firstName} has shape [${first.shape}], expected [B, …] with at least 2 dimensions`);
  if (timesteps.length !== batch)
    throw new RangeError(`Cannot ${action}: ${timesteps.length} timesteps for a batch of ${batch} (one per row)`);
  return batch;
}

/**
 * The mean of the DDIM transition p(x_{t−1} | x_t, ε̂) with one timestep per row. Differentiable in
 * `modelOutput` (and `sample`).
 *
 * @example
 * ```ts
 * const { mean, stdDevT } = transitionMean(scheduler, eps, [751, 51], xT);
 * ```
 */
export function transitionMean(
  schedule: TransitionSchedule,
  modelOutput: Tensor,
  timesteps: readonly number[],
  sample: Tensor,
  eta = 1,
): TransitionMean {
  checkRows("compute a DDIM transition mean", timesteps, { modelOutput, sample });
  const coefficients = timesteps.map((t) => transitionCoefficients(schedule, t, eta));
  const tensors = tidy(() => {
    const sqrtAlpha = rowConstant(
      coefficients.map((c) => c.sqrtAlphaProdT),
      sample,
    );
    const sqrtBeta = rowConstant(
      coefficients.map((c) => c.sqrtBetaProdT),
      sample,
    );
    const sqrtAlphaPrev = rowConstant(
      coefficients.map((c) => c.sqrtAlphaProdTPrev),
      sample,
    );
    const direction = rowConstant(
      coefficients.map((c) => c.directionCoefficient),
      sample,
    );
    const predOriginalSample = div(sub(sample, mul(sqrtBeta, modelOutput)), sqrtAlpha);
    const mu = add(mul(sqrtAlphaPrev, predOriginalSample), mul(direction, modelOutput));
    return { predOriginalSample, mean: mu };
  });
  return { ...tensors, stdDevT: coefficients.map((c) => c.stdDevT), coefficients };
}

/**
 * log N(x_{t−1}; μ(ε̂, x_t, t), σ_t²) averaged over every non-batch element: [B] in f32.
 * `prevSample` is a constant (no gradient flows into it); the gradient flows into `modelOutput`.
 *
 * @example
 * ```ts
 * const logProb = transitionLogProb(scheduler, cfgEps, [751, 51], xT, xPrev); // [2]
 * ```
 */
export function transitionLogProb(
  schedule: TransitionSchedule,
  modelOutput: Tensor,
  timesteps: readonly number[],
  sample: Tensor,
  prevSample: Tensor,
  eta = 1,
): Tensor {
  checkRows("compute a DDIM transition log-prob", timesteps, { modelOutput, sample, prevSample });
  return tidy(() => {
    const { mean: mu, stdDevT } = transitionMean(schedule, modelOutput, timesteps, sample, eta);
    const inverseTwoVariance = rowConstant(
      stdDevT.map((s) => f32(1 / f32(2 * f32(s * s)))),
      sample,
    );
    const logNormaliser = stdDevT.map((s) => f32(f32(Math.log(s)) + LOG_SQRT_2PI));
    const target = detach(prevSample);
    const squared = mul(square(sub(target, mu)), inverseTwoVariance);
    const axes = Array.from({ length: sample.ndim - 1 }, (_, i) => i + 1);
    const quadratic = mean(squared, axes);
    return sub(neg(quadratic), tensor(Float32Array.from(logNormaliser), [logNormaliser.length], { device: sample.device }));
  });
}
