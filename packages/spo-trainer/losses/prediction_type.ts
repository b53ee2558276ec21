/**
 * What a UNet predicts and how the trainer turns its output into ε̂ and x̂₀: "epsilon" (the noise),
 * "v_prediction" (v = √ᾱ_t·ε − √(1 − ᾱ_t)·x₀) or "sample" (x₀ itself), as diffusers'
 * `scheduler_config.json` names them. Every place that needs ε̂ (the sampler's transitions, SPO's
 * log-probabilities) converts once here; CFG commutes with the conversion because it is affine in
 * the model output with the same x_t for both branches.
 *
 * @module
 */

import { add, div, mul, sub, type Tensor, tidy } from "@spo/wgpu-tensor";
import { rowConstant } from "./transition_log_prob.ts";

export const PREDICTION_TYPES = ["epsilon", "v_prediction", "sample"] as const;
export type PredictionType = (typeof PREDICTION_TYPES)[number];

/** A prediction type the trainer does not know, or an option that contradicts the scheduler's config. */
export class PredictionTypeError extends TypeError {
  override name = "PredictionTypeError";
  constructor(
    message: string,
    readonly predictionType: unknown,
  ) {
    super(message);
  }
}

/** Checks a prediction type (typed error before any work). */
export function checkPredictionType(value: unknown): PredictionType {
  if (typeof value === "string" && (PREDICTION_TYPES as readonly string[]).includes(value)) return value as PredictionType;
  throw new PredictionTypeError(
    `Unknown prediction type ${JSON.stringify(value)}: expected one of ${PREDICTION_TYPES.join(", ")} (scheduler_config.json's prediction_type)`,
    value,
  );
}

/**
 * The prediction type of a run: the explicit option, else the scheduler config's `predictionType`,
 * else "epsilon". An option that disagrees with the scheduler's config is an error (the scheduler's
 * own `step`, used for validation images, reads its config).
 */
export function resolvePredictionType(option: unknown, schedule?: { readonly config?: object }): PredictionType {
  const fromConfig = (schedule?.config as { predictionType?: unknown } | undefined)?.predictionType;
  const configType = fromConfig === undefined ? undefined : checkPredictionType(fromConfig);
  if (option === undefined) return configType ?? "epsilon";
  const chosen = checkPredictionType(option);
  if (configType !== undefined && configType !== chosen) {
    throw new PredictionTypeError(`Prediction type "${chosen}" contradicts the scheduler config's "${configType}"`, option);
  }
  return chosen;
}

/** The schedule surface the conversion needs. */
export interface AlphaSchedule {
  readonly alphasCumprod: Float32Array;
}

function rowCoefficients(schedule: AlphaSchedule, timesteps: readonly number[], like: Tensor): { sqrtAlpha: Tensor; sqrtBeta: Tensor } {
  if (timesteps.length !== like.shape[0]) {
    throw new RangeError(`Cannot convert a model output: ${timesteps.length} timesteps for a batch of ${like.shape[0]} (one per row)`);
  }
  const alpha = timesteps.map((t) => {
    const a = schedule.alphasCumprod[t];
    if (a === undefined) throw new RangeError(`Cannot convert a model output at timestep ${t}: outside the schedule`);
    return a;
  });
  const f32 = Math.fround;
  return {
    sqrtAlpha: rowConstant(
      alpha.map((a) => f32(Math.sqrt(a))),
      like,
    ),
    sqrtBeta: rowConstant(
      alpha.map((a) => f32(Math.sqrt(f32(1 - a)))),
      like,
    ),
  };
}

/**
 * ε̂ from a model output at x_t (one timestep per row): epsilon → the output itself;
 * v → √ᾱ_t·v̂ + √(1 − ᾱ_t)·x_t; sample → (x_t − √ᾱ_t·x̂₀)/√(1 − ᾱ_t). Differentiable in `output`.
 *
 * @example
 * ```ts
 * const eps = epsilonFromOutput(scheduler, "v_prediction", v, [751], x);
 * ```
 */
export function epsilonFromOutput(
  schedule: AlphaSchedule,
  predictionType: PredictionType,
  output: Tensor,
  timesteps: readonly number[],
  sample: Tensor,
): Tensor {
  if (predictionType === "epsilon") return output;
  return tidy(() => {
    const { sqrtAlpha, sqrtBeta } = rowCoefficients(schedule, timesteps, sample);
    if (predictionType === "v_prediction") return add(mul(sqrtAlpha, output), mul(sqrtBeta, sample));
    return div(sub(sample, mul(sqrtAlpha, output)), sqrtBeta);
  });
}

/**
 * x̂₀ from a model output at x_t: epsilon → (x_t − √(1 − ᾱ_t)·ε̂)/√ᾱ_t; v → √ᾱ_t·x_t − √(1 − ᾱ_t)·v̂;
 * sample → the output itself.
 */
export function sampleFromOutput(
  schedule: AlphaSchedule,
  predictionType: PredictionType,
  output: Tensor,
  timesteps: readonly number[],
  sample: Tensor,
): Tensor {
  if (predictionType === "sample") return output;
  return tidy(() => {
    const { sqrtAlpha, sqrtBeta } = rowCoefficients(schedule, timesteps, sample);
    if (predictionType === "v_prediction") return sub(mul(sqrtAlpha, sample), mul(sqrtBeta, output));
    return div(sub(sample, mul(sqrtBeta, output)), sqrtAlpha);
  });
}

/** What a model of this type is trained to output for x_t = √ᾱ·x₀ + √(1 − ᾱ)·ε (Diffusion-DPO's target). */
export function trainingTarget(
  schedule: AlphaSchedule,
  predictionType: PredictionType,
  clean: Tensor,
  noise: Tensor,
  timesteps: readonly number[],
): Tensor {
  if (predictionType === "epsilon") return noise;
  if (predictionType === "sample") return clean;
  return tidy(() => {
    const { sqrtAlpha, sqrtBeta } = rowCoefficients(schedule, timesteps, clean);
    return sub(mul(sqrtAlpha, noise), mul(sqrtBeta, clean));
  });
}
