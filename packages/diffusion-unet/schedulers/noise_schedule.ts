import { f32, torchLinspaceF32 } from "./_numpy.ts";
import type { DiffusersConfigReader } from "./scheduler_config.ts";

/** How diffusers turns `beta_start`/`beta_end` into the training betas. */
export type BetaSchedule = "linear" | "scaled_linear" | "squaredcos_cap_v2" | "sigmoid";

/** The fields of a diffusers scheduler config that define the training noise schedule. */
export interface NoiseScheduleConfig {
  numTrainTimesteps: number;
  betaStart: number;
  betaEnd: number;
  betaSchedule: BetaSchedule;
  /** Betas given directly (`trained_betas`); overrides the three fields above. */
  trainedBetas: readonly number[] | null;
  /** Rescales the betas so that ᾱ at the last timestep is 0 (arXiv 2305.08891, Algorithm 1). */
  rescaleBetasZeroSnr: boolean;
}

/** diffusers' defaults for the schedule fields (`DDPMScheduler.__init__` and its siblings). */
export const DEFAULT_NOISE_SCHEDULE: NoiseScheduleConfig = {
  numTrainTimesteps: 1000,
  betaStart: 0.0001,
  betaEnd: 0.02,
  betaSchedule: "linear",
  trainedBetas: null,
  rescaleBetasZeroSnr: false,
};

/** Reads the schedule fields; `schedules` lists the beta schedules the scheduler class accepts. */
export function readNoiseScheduleConfig(
  reader: DiffusersConfigReader,
  schedules: readonly BetaSchedule[],
  options: { hasZeroSnrRescale: boolean },
): NoiseScheduleConfig {
  const d = DEFAULT_NOISE_SCHEDULE;
  return {
    numTrainTimesteps: reader.integer("num_train_timesteps", d.numTrainTimesteps, 1),
    betaStart: reader.number("beta_start", d.betaStart),
    betaEnd: reader.number("beta_end", d.betaEnd),
    betaSchedule: reader.choice("beta_schedule", schedules, d.betaSchedule),
    trainedBetas: reader.numbersOrNull("trained_betas"),
    rescaleBetasZeroSnr: options.hasZeroSnrRescale ? reader.boolean("rescale_betas_zero_snr", false) : false,
  };
}

/**
 * The training noise schedule shared by every scheduler: βₜ, αₜ = 1 − βₜ and ᾱₜ = ∏ₛ≤ₜ αₛ for
 * t = 0 … numTrainTimesteps − 1, as the float32 tables diffusers builds (torch float32 ops; the
 * cumulative product accumulates in float64 and stores float32, like ATen's CPU `cumprod`).
 *
 * @example
 * ```ts
 * const schedule = new NoiseSchedule({ ...DEFAULT_NOISE_SCHEDULE, betaSchedule: "scaled_linear",
 *   betaStart: 0.00085, betaEnd: 0.012 });
 * schedule.alphasCumprod[0]; // 0.9991499781608582
 * schedule.alphasCumprod[999]; // ≈ 0.0046601
 * ```
 */
export class NoiseSchedule {
  readonly config: Readonly<NoiseScheduleConfig>;
  readonly numTrainTimesteps: number;
  readonly betas: Float32Array;
  readonly alphas: Float32Array;
  readonly alphasCumprod: Float32Array;
  /** √ᾱₜ, as the float32 `alphas_cumprod[t] ** 0.5` of diffusers. */
  readonly sqrtAlphasCumprod: Float32Array;
  /** √(1 − ᾱₜ), as the float32 `(1 - alphas_cumprod[t]) ** 0.5` of diffusers. */
  readonly sqrtOneMinusAlphasCumprod: Float32Array;

  constructor(config: NoiseScheduleConfig) {
    this.config = Object.freeze({ ...config });
    const betas = config.rescaleBetasZeroSnr ? rescaleZeroTerminalSnr(betasFor(config)) : betasFor(config);
    this.numTrainTimesteps = config.numTrainTimesteps;
    this.betas = betas;
    this.alphas = betas.map((beta) => f32(1 - beta));
    this.alphasCumprod = cumprodF32(this.alphas);
    this.sqrtAlphasCumprod = this.alphasCumprod.map((a) => f32(Math.sqrt(a)));
    this.sqrtOneMinusAlphasCumprod = this.alphasCumprod.map((a) => f32(Math.sqrt(f32(1 - a))));
  }

  /** ᾱₜ for an integer training timestep t ∈ [0, numTrainTimesteps). */
  alphaProd(timestep: number, caller = "alphaProd"): number {
    this.checkTimestep(timestep, caller);
    return this.alphasCumprod[timestep];
  }

  /** Throws a RangeError naming `caller` unless t is an integer in [0, numTrainTimesteps). */
  checkTimestep(timestep: number, caller: string): void {
    if (!Number.isInteger(timestep) || timestep < 0 || timestep >= this.numTrainTimesteps) {
      throw new RangeError(`Cannot run ${caller} at timestep ${timestep}: it must be an integer in [0, ${this.numTrainTimesteps})`);
    }
  }
}

/** The float32 betas of a config, before any zero-SNR rescaling. */
function betasFor(config: NoiseScheduleConfig): Float32Array {
  const n = config.numTrainTimesteps;
  if (config.trainedBetas !== null) {
    if (config.trainedBetas.length !== n) {
      throw new RangeError(`Cannot use trained_betas: it has ${config.trainedBetas.length} values, num_train_timesteps is ${n}`);
    }
    return Float32Array.from(config.trainedBetas);
  }
  switch (config.betaSchedule) {
    case "linear":
      return torchLinspaceF32(config.betaStart, config.betaEnd, n);
    case "scaled_linear":
      // torch.linspace(beta_start**0.5, beta_end**0.5, n, dtype=float32) ** 2
      return torchLinspaceF32(Math.sqrt(config.betaStart), Math.sqrt(config.betaEnd), n).map((b) => f32(b * b));
    case "squaredcos_cap_v2":
      return squaredCosineBetas(n);
    case "sigmoid": {
      // torch.sigmoid(torch.linspace(-6, 6, n)) * (beta_end - beta_start) + beta_start
      const range = f32(config.betaEnd - config.betaStart);
      const start = f32(config.betaStart);
      return torchLinspaceF32(-6, 6, n).map((x) => f32(f32(f32(1 / (1 + Math.exp(-x))) * range) + start));
    }
  }
}

/** Glide's cosine schedule (`betas_for_alpha_bar`, max β 0.999), in float64 then float32. */
function squaredCosineBetas(n: number): Float32Array {
  const alphaBar = (t: number) => Math.cos((((t + 0.008) / 1.008) * Math.PI) / 2) ** 2;
  return Float32Array.from({ length: n }, (_, i) => Math.min(1 - alphaBar((i + 1) / n) / alphaBar(i / n), 0.999));
}

/** ATen's CPU cumprod of a float32 tensor: a float64 running product, each value stored as float32. */
function cumprodF32(values: Float32Array): Float32Array {
  const out = new Float32Array(values.length);
  let product = 1;
  for (let i = 0; i < values.length; i++) {
    product *= values[i];
    out[i] = product;
  }
  return out;
}

/**
 * diffusers `rescale_zero_terminal_snr`: shifts and scales √ᾱ so that it starts where it did and
 * ends at 0, then recovers the betas, every step in float32.
 */
function rescaleZeroTerminalSnr(betas: Float32Array): Float32Array {
  const alphasCumprod = cumprodF32(betas.map((beta) => f32(1 - beta)));
  const sqrtBar = alphasCumprod.map((a) => f32(Math.sqrt(a)));
  const first = sqrtBar[0];
  const last = sqrtBar[sqrtBar.length - 1];
  const scale = f32(first / f32(first - last));
  const bar = sqrtBar.map((s) => {
    const rescaled = f32(f32(s - last) * scale);
    return f32(rescaled * rescaled);
  });
  const alphas = bar.map((b, i) => (i === 0 ? b : f32(b / bar[i - 1])));
  return alphas.map((a) => f32(1 - a));
}
