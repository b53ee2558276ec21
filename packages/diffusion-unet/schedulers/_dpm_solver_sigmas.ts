/**
 * The σ schedule of `DPMSolverMultistepScheduler.set_timesteps` (diffusers 0.26): timesteps by
 * spacing and σ looked up at them, or Karras (ρ = 7) / λ-uniform ("Lu") σ with timesteps found by
 * interpolating log σ. float64 where numpy computes, float32 where torch does.
 * @module
 */
import { f32, interpUnitGrid, linspace, roundHalfEven } from "./_numpy.ts";
import type { NoiseSchedule } from "./noise_schedule.ts";
import { dpmSolverTimesteps, type TimestepSpacing } from "./timestep_spacing.ts";

/** The inputs of the σ schedule. */
export interface DpmSigmaOptions {
  spacing: TimestepSpacing;
  stepsOffset: number;
  useKarrasSigmas: boolean;
  useLuLambdas: boolean;
  finalSigmasType: "zero" | "sigma_min";
  lambdaMinClipped: number;
}

/** σ_t = √((1 − ᾱ_t)/ᾱ_t) per training timestep, float32 as torch computes it. */
export function trainSigmas(schedule: NoiseSchedule): Float32Array {
  return schedule.alphasCumprod.map((a) => f32(Math.sqrt(f32(f32(1 - a) / a))));
}

/** α_t = 1/√(σ² + 1) and σ_t = σ·α_t (diffusers `_sigma_to_alpha_sigma_t`), float32. */
export function alphaSigmaOf(sigma: number): { alphaT: number; sigmaT: number } {
  const alphaT = f32(1 / f32(Math.sqrt(f32(f32(sigma * sigma) + 1))));
  return { alphaT, sigmaT: f32(sigma * alphaT) };
}

/** λ = log α_t − log σ_t, float32 (+∞ at σ = 0). */
export function lambdaOf(alphaT: number, sigmaT: number): number {
  return f32(f32(Math.log(alphaT)) - f32(Math.log(sigmaT)));
}

/** The timesteps (integers) and σ (float32, one more than the timesteps) for `count` steps. */
export function dpmSolverSchedule(
  schedule: NoiseSchedule,
  count: number,
  options: DpmSigmaOptions,
): { timesteps: number[]; sigmas: Float32Array } {
  const T = schedule.numTrainTimesteps;
  const lastTimestep = T - clippedLambdaCount(schedule, options.lambdaMinClipped);
  let timesteps = dpmSolverTimesteps(count, {
    spacing: options.spacing,
    numTrainTimesteps: T,
    stepsOffset: options.stepsOffset,
    lastTimestep,
  });
  const sigmasTrain = trainSigmas(schedule);
  const logSigmas = sigmasTrain.map((s) => f32(Math.log(s)));
  let sigmas: number[];
  if (options.useKarrasSigmas) {
    sigmas = karrasSigmas(sigmasTrain[0], sigmasTrain[T - 1], count);
    timesteps = sigmas.map((sigma) => roundHalfEven(sigmaToT(sigma, logSigmas)));
  } else if (options.useLuLambdas) {
    // diffusers 0.26 ramps log σ (not λ) uniformly between its ends, then exponentiates
    const lambdas = rampRho(logSigmas[T - 1], logSigmas[0], count, 1);
    sigmas = lambdas.map(Math.exp);
    timesteps = sigmas.map((sigma) => roundHalfEven(sigmaToT(sigma, logSigmas)));
  } else {
    sigmas = timesteps.map((t) => interpUnitGrid(t, sigmasTrain));
  }
  const sigmaLast = options.finalSigmasType === "sigma_min" ? sigmasTrain[0] : 0;
  return { timesteps, sigmas: Float32Array.from([...sigmas, sigmaLast]) };
}

/**
 * How many of the smallest λ fall below `lambdaMinClipped` (`torch.searchsorted` on the flipped
 * float32 λ table); the schedule then ends that many timesteps early.
 */
function clippedLambdaCount(schedule: NoiseSchedule, lambdaMinClipped: number): number {
  if (lambdaMinClipped === -Infinity) return 0;
  const lambdas = schedule.alphasCumprod.map((a) => lambdaOf(f32(Math.sqrt(a)), f32(Math.sqrt(f32(1 - a)))));
  // flipped, λ increases; searchsorted (left) counts the values strictly below the bound
  return lambdas.filter((lambda) => lambda < lambdaMinClipped).length;
}

/** Karras et al. (2022) eq. 5 with ρ = 7: σ_i = (σ_max^(1/ρ) + i/(n−1)·(σ_min^(1/ρ) − σ_max^(1/ρ)))^ρ. */
function karrasSigmas(sigmaMin: number, sigmaMax: number, count: number): number[] {
  return rampRho(sigmaMax, sigmaMin, count, 7);
}

/** (max^(1/ρ) + ramp·(min^(1/ρ) − max^(1/ρ)))^ρ over ramp = linspace(0, 1, count), float64. */
function rampRho(max: number, min: number, count: number, rho: number): number[] {
  const minInvRho = min ** (1 / rho);
  const maxInvRho = max ** (1 / rho);
  return linspace(0, 1, count).map((r) => (maxInvRho + r * (minInvRho - maxInvRho)) ** rho);
}

/**
 * diffusers `_sigma_to_t`: the fractional timestep whose log σ matches, by linear interpolation
 * between the two neighbouring float32 log σ (the lower bracket is the last log σ ≤ log sigma).
 */
function sigmaToT(sigma: number, logSigmas: Float32Array): number {
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  let lowIdx = 0;
  for (let i = 0; i < logSigmas.length; i++) if (logSigma - logSigmas[i] >= 0) lowIdx = i;
  lowIdx = Math.min(lowIdx, logSigmas.length - 2);
  const low = logSigmas[lowIdx];
  const high = logSigmas[lowIdx + 1];
  // numpy: (float32 − float64) / (float32 − float32): the denominator is rounded to float32
  const w = Math.min(Math.max((low - logSigma) / f32(low - high), 0), 1);
  return (1 - w) * lowIdx + w * (lowIdx + 1);
}
