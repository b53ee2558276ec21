import { add, clamp, mul, type Tensor, tidy } from "@spo/wgpu-tensor";
import { f32 } from "./_numpy.ts";
import { rowOperand, rowTimesteps, rowValues } from "./_per_row.ts";
import { vpPrediction } from "./_vp_prediction.ts";
import { addNoiseVp, type NoiseTimesteps, velocityVp } from "./add_noise.ts";
import { checkNoiseOptions, checkSameShape, resolveNoise, type StepNoiseOptions } from "./noise.ts";
import { DEFAULT_NOISE_SCHEDULE, NoiseSchedule, type NoiseScheduleConfig, readNoiseScheduleConfig } from "./noise_schedule.ts";
import { PREDICTION_TYPES, type PredictionType, schedulerConfigReader } from "./scheduler_config.ts";
import { checkTimesteps, discreteTimesteps, TIMESTEP_SPACINGS, type TimestepSpacing } from "./timestep_spacing.ts";

/**
 * The noise of a DDPM step: "fixed_small" σ² = β̃_t (the posterior variance, clamped at 1e-20),
 * "fixed_small_log" the same through exp(½·log), "fixed_large" σ² = β_t (of the strided step).
 * The learned variances need a model with twice the channels and are not supported.
 */
export type DDPMVarianceType = "fixed_small" | "fixed_small_log" | "fixed_large";

/** The typed fields of a diffusers `DDPMScheduler` config (0.26), camelCase. */
export interface DDPMSchedulerConfig extends NoiseScheduleConfig {
  varianceType: DDPMVarianceType;
  clipSample: boolean;
  clipSampleRange: number;
  predictionType: PredictionType;
  timestepSpacing: TimestepSpacing;
  stepsOffset: number;
}

/** The host constants of one DDPM step t → t_prev (formula (7) of arXiv 2006.11239), float32. */
export interface DDPMStepCoefficients {
  timestep: number;
  prevTimestep: number;
  sqrtAlphaProdT: number;
  sqrtBetaProdT: number;
  /** √ᾱ_prev·β_t/(1 − ᾱ_t): the weight of x̂₀ in the posterior mean. */
  predOriginalSampleCoeff: number;
  /** √α_t·(1 − ᾱ_prev)/(1 − ᾱ_t): the weight of x_t in the posterior mean. */
  currentSampleCoeff: number;
  /** The standard deviation of the added noise (0 at t = 0, where diffusers adds none). */
  stdDevT: number;
}

/** What a DDPM step returns; `S` is `number` for one timestep and `number[]` for one per row. */
export interface DDPMStepOutput<S = number> {
  /** x_{t−1} = prevSampleMean + σ·z (the same tensor as prevSampleMean when no noise is added). */
  prevSample: Tensor;
  predOriginalSample: Tensor;
  /** The posterior mean μ̃(x_t, x̂₀). */
  prevSampleMean: Tensor;
  stdDevT: S;
}

/**
 * Denoising diffusion probabilistic models (arXiv 2006.11239) on a strided schedule, with
 * diffusers' semantics: x_{t−1} = c₀·x̂₀ + c_t·x_t + σ_t·z, no noise at t = 0.
 *
 * @example
 * ```ts
 * const scheduler = DDPMScheduler.fromConfig({ beta_schedule: "scaled_linear", beta_start: 0.00085, beta_end: 0.012 });
 * scheduler.setTimesteps(20);
 * const { prevSample } = scheduler.step(eps, scheduler.timesteps[0], latents, { noise: z });
 * ```
 */
export class DDPMScheduler {
  /** diffusers' defaults for `DDPMScheduler()`. */
  static readonly defaults: Readonly<DDPMSchedulerConfig> = {
    ...DEFAULT_NOISE_SCHEDULE,
    varianceType: "fixed_small",
    clipSample: true,
    clipSampleRange: 1,
    predictionType: "epsilon",
    timestepSpacing: "leading",
    stepsOffset: 0,
  };

  readonly config: Readonly<DDPMSchedulerConfig>;
  readonly schedule: NoiseSchedule;
  readonly initNoiseSigma = 1;
  #numInferenceSteps: number | null = null;
  #timesteps: number[];

  /** Reads a diffusers config dict (snake_case); missing keys take diffusers' defaults. */
  static fromConfig(json: unknown): DDPMScheduler {
    const reader = schedulerConfigReader("DDPMScheduler", json);
    const d = DDPMScheduler.defaults;
    const config: DDPMSchedulerConfig = {
      ...readNoiseScheduleConfig(reader, ["linear", "scaled_linear", "squaredcos_cap_v2", "sigmoid"], { hasZeroSnrRescale: true }),
      varianceType: reader.choice("variance_type", ["fixed_small", "fixed_small_log", "fixed_large"] as const, d.varianceType, [
        "fixed_large_log",
        "learned",
        "learned_range",
      ]),
      clipSample: reader.boolean("clip_sample", d.clipSample),
      clipSampleRange: reader.number("clip_sample_range", d.clipSampleRange),
      predictionType: reader.choice("prediction_type", PREDICTION_TYPES, d.predictionType),
      timestepSpacing: reader.choice("timestep_spacing", TIMESTEP_SPACINGS, d.timestepSpacing),
      stepsOffset: reader.integer("steps_offset", d.stepsOffset),
    };
    reader.unsupported("thresholding", false);
    reader.finish();
    return new DDPMScheduler(config);
  }

  constructor(config: Partial<DDPMSchedulerConfig> = {}) {
    this.config = Object.freeze({ ...DDPMScheduler.defaults, ...config });
    this.schedule = new NoiseSchedule(this.config);
    this.#timesteps = Array.from({ length: this.config.numTrainTimesteps }, (_, i) => this.config.numTrainTimesteps - 1 - i);
  }

  get alphasCumprod(): Float32Array {
    return this.schedule.alphasCumprod;
  }

  get betas(): Float32Array {
    return this.schedule.betas;
  }

  get numInferenceSteps(): number | null {
    return this.#numInferenceSteps;
  }

  /** The timesteps of the sampling loop, largest first (all training timesteps before `setTimesteps`). */
  get timesteps(): readonly number[] {
    return this.#timesteps;
  }

  setTimesteps(numInferenceSteps: number): void {
    const options = {
      spacing: this.config.timestepSpacing,
      numTrainTimesteps: this.config.numTrainTimesteps,
      stepsOffset: this.config.stepsOffset,
    };
    const timesteps = discreteTimesteps(numInferenceSteps, options);
    checkTimesteps("DDPMScheduler", timesteps, numInferenceSteps, options);
    this.#numInferenceSteps = numInferenceSteps;
    this.#timesteps = timesteps;
  }

  scaleModelInput(sample: Tensor, _timestep?: number): Tensor {
    return sample;
  }

  /** t − T / n (integer division), with n = T before `setTimesteps`. */
  previousTimestep(timestep: number): number {
    const steps = this.#numInferenceSteps ?? this.config.numTrainTimesteps;
    return timestep - Math.floor(this.config.numTrainTimesteps / steps);
  }

  /** The variance of the noise added at t (diffusers `_get_variance`, before the square root). */
  getVariance(timestep: number): number {
    const { alphaProdT, alphaProdTPrev } = this.#alphaProds(timestep);
    const currentBetaT = f32(1 - f32(alphaProdT / alphaProdTPrev));
    const posterior = Math.max(f32(f32(f32(1 - alphaProdTPrev) / f32(1 - alphaProdT)) * currentBetaT), f32(1e-20));
    return this.config.varianceType === "fixed_large" ? currentBetaT : posterior;
  }

  stepCoefficients(timestep: number): DDPMStepCoefficients {
    const { prevTimestep, alphaProdT, alphaProdTPrev } = this.#alphaProds(timestep);
    const betaProdT = f32(1 - alphaProdT);
    const betaProdTPrev = f32(1 - alphaProdTPrev);
    const currentAlphaT = f32(alphaProdT / alphaProdTPrev);
    const currentBetaT = f32(1 - currentAlphaT);
    const variance = this.getVariance(timestep);
    const std =
      this.config.varianceType === "fixed_small_log" ? f32(Math.exp(f32(0.5 * f32(Math.log(variance))))) : f32(Math.sqrt(variance));
    return {
      timestep,
      prevTimestep,
      sqrtAlphaProdT: f32(Math.sqrt(alphaProdT)),
      sqrtBetaProdT: f32(Math.sqrt(betaProdT)),
      predOriginalSampleCoeff: f32(f32(f32(Math.sqrt(alphaProdTPrev)) * currentBetaT) / betaProdT),
      currentSampleCoeff: f32(f32(f32(Math.sqrt(currentAlphaT)) * betaProdTPrev) / betaProdT),
      stdDevT: timestep > 0 ? std : 0,
    };
  }

  /**
   * One reverse step x_t → x_{t−1}; `timestep` is one number or one per batch row. Where t > 0 the
   * noise z comes from `noise` (what diffusers draws with its generator) or `generator`.
   */
  step(modelOutput: Tensor, timestep: number, sample: Tensor, options?: StepNoiseOptions): DDPMStepOutput<number>;
  step(modelOutput: Tensor, timestep: readonly number[], sample: Tensor, options?: StepNoiseOptions): DDPMStepOutput<number[]>;
  step(
    modelOutput: Tensor,
    timestep: number | readonly number[],
    sample: Tensor,
    options: StepNoiseOptions = {},
  ): DDPMStepOutput<number | number[]> {
    const action = "step DDPMScheduler";
    checkSameShape(action, modelOutput, sample);
    const rows = rowTimesteps(action, timestep, sample.shape[0] ?? 1);
    const coefficients = new Map(rows.values.map((t) => [t, this.stepCoefficients(t)]));
    const at = (pick: (c: DDPMStepCoefficients) => number) => rowOperand(rows, sample, (t) => pick(coefficients.get(t)!));
    const addsNoise = rows.values.some((t) => t > 0);
    const noiseAction = `${action} at timestep ${rows.values.join(", ")}`;
    if (addsNoise) checkNoiseOptions(noiseAction, sample.shape, options);
    const tensors = tidy(() => {
      // 2. x̂₀ from the model output
      const sqrtAlphaProdT = at((c) => c.sqrtAlphaProdT);
      const sqrtBetaProdT = at((c) => c.sqrtBetaProdT);
      let predOriginalSample = vpPrediction(
        this.config.predictionType,
        modelOutput,
        sample,
        sqrtAlphaProdT,
        sqrtBetaProdT,
        false,
      ).predOriginalSample;
      // 3. clip x̂₀
      if (this.config.clipSample) {
        predOriginalSample = clamp(predOriginalSample, -this.config.clipSampleRange, this.config.clipSampleRange);
      }
      // 4-5. posterior mean μ̃ = c₀·x̂₀ + c_t·x_t
      const prevSampleMean = add(
        mul(
          at((c) => c.predOriginalSampleCoeff),
          predOriginalSample,
        ),
        mul(
          at((c) => c.currentSampleCoeff),
          sample,
        ),
      );
      // 6. add σ_t·z where t > 0
      if (!addsNoise) return { prevSample: prevSampleMean, predOriginalSample, prevSampleMean };
      const { noise } = resolveNoise(noiseAction, sample.shape, options);
      const prevSample = add(
        prevSampleMean,
        mul(
          at((c) => c.stdDevT),
          noise,
        ),
      );
      return { prevSample, predOriginalSample, prevSampleMean };
    });
    return { ...tensors, stdDevT: rowValues(rows, (t) => coefficients.get(t)!.stdDevT) };
  }

  /** x_t = √ᾱ_t·x₀ + √(1 − ᾱ_t)·ε, with one timestep per batch row (or one for all). */
  addNoise(original: Tensor, noise: Tensor, timesteps: NoiseTimesteps): Tensor {
    return addNoiseVp(this.schedule, original, noise, timesteps);
  }

  /** The v-prediction target √ᾱ_t·ε − √(1 − ᾱ_t)·x₀. */
  getVelocity(sample: Tensor, noise: Tensor, timesteps: NoiseTimesteps): Tensor {
    return velocityVp(this.schedule, sample, noise, timesteps);
  }

  /** ᾱ_t and ᾱ_prev, with ᾱ_prev = 1 before the first training step (diffusers `self.one`). */
  #alphaProds(timestep: number): { prevTimestep: number; alphaProdT: number; alphaProdTPrev: number } {
    const prevTimestep = this.previousTimestep(timestep);
    const alphaProdT = this.schedule.alphaProd(timestep, "DDPMScheduler.step");
    const alphaProdTPrev = prevTimestep >= 0 ? this.schedule.alphaProd(prevTimestep, "DDPMScheduler.step") : 1;
    return { prevTimestep, alphaProdT, alphaProdTPrev };
  }
}
