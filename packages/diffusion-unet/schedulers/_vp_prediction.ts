/**
 * From a model output to x̂₀ and ε̂ on a variance-preserving schedule, x_t = √ᾱ·x₀ + √(1−ᾱ)·ε,
 * in the operation order of diffusers' DDIM/DDPM `step` so the float32 roundings agree.
 * @module
 */
import { add, div, mul, sub, type Tensor } from "@spo/wgpu-tensor";
import type { Operand } from "./_per_row.ts";
import type { PredictionType } from "./scheduler_config.ts";

/** x̂₀ and ε̂ of one step (ε̂ only when asked for). */
export interface VpPrediction {
  predOriginalSample: Tensor;
  predEpsilon: Tensor | null;
}

/**
 * - epsilon: x̂₀ = (x_t − √(1−ᾱ)·ε̂)/√ᾱ, ε̂ = output
 * - sample: x̂₀ = output, ε̂ = (x_t − √ᾱ·x̂₀)/√(1−ᾱ)
 * - v_prediction: x̂₀ = √ᾱ·x_t − √(1−ᾱ)·v, ε̂ = √ᾱ·v + √(1−ᾱ)·x_t
 */
export function vpPrediction(
  predictionType: PredictionType,
  modelOutput: Tensor,
  sample: Tensor,
  sqrtAlphaProd: Operand,
  sqrtBetaProd: Operand,
  needsEpsilon: boolean,
): VpPrediction {
  switch (predictionType) {
    case "epsilon":
      return { predOriginalSample: div(sub(sample, mul(sqrtBetaProd, modelOutput)), sqrtAlphaProd), predEpsilon: modelOutput };
    case "sample":
      return {
        // a copy, so that the step's outputs never alias the caller's input
        predOriginalSample: mul(modelOutput, 1),
        predEpsilon: needsEpsilon ? epsilonFromOriginal(sample, modelOutput, sqrtAlphaProd, sqrtBetaProd) : null,
      };
    case "v_prediction":
      return {
        predOriginalSample: sub(mul(sqrtAlphaProd, sample), mul(sqrtBetaProd, modelOutput)),
        predEpsilon: needsEpsilon ? add(mul(sqrtAlphaProd, modelOutput), mul(sqrtBetaProd, sample)) : null,
      };
  }
}

/** ε̂ = (x_t − √ᾱ·x̂₀)/√(1−ᾱ), the noise implied by a (possibly clipped) x̂₀. */
export function epsilonFromOriginal(sample: Tensor, predOriginalSample: Tensor, sqrtAlphaProd: Operand, sqrtBetaProd: Operand): Tensor {
  return div(sub(sample, mul(sqrtAlphaProd, predOriginalSample)), sqrtBetaProd);
}
