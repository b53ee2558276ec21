import { add, clamp, mul, type Tensor, tidy } from "@spo/wgpu-tensor";
import { f32 } from "./_numpy.ts";
import { rowOperand, rowTimesteps, rowValues } from "./_per_row.ts";
import { epsilonFromOriginal, vpPrediction } from "./_vp_prediction.ts";
import { addNoiseVp, type NoiseTimesteps, velocityVp } from "./add_noise.ts";
import { checkNoiseOptions, checkSameShape, resolveNoise, type StepNoiseOptions } from "./noise.ts";
import { DEFAULT_NOISE_SCHEDULE, NoiseSchedule, type NoiseScheduleConfig, readNoiseScheduleConfig } from "./noise_schedule.ts";
import { PREDICTION_TYPES, type PredictionType, schedulerConfigReader } from "./scheduler_config.ts";
import { checkTimesteps, discreteTimesteps, TIMESTEP_SPACINGS, type TimestepSpacing } from "./timestep_spacing.ts";

/** The typed fields of a diffusers `DDIMScheduler` config (0.26), camelCase. */
export interface DDIMSchedulerConfig extends NoiseScheduleConfig {
  /** Clamp x̂₀ to [−clipSampleRange, clipSampleRange]. */
  clipSample: boolean;
  clipSampleRange: number;
  /** ᾱ before the first training step: 1 when true, else ᾱ₀ (SD1.5 uses false). */
  setAlphaToOne: boolean;
  stepsOffset: number;
  predictionType: PredictionType;
  timestepSpacing: TimestepSpacing;
}

/** The constants of one DDIM step t → t_prev (formulas (12) and (16) of arXiv 2010.02502), float32. */
export interface DDIMStepCoefficients {
  timestep: number;
  prevTimestep: number;
  alphaProdT: number;
  /** ᾱ at t_prev, or `finalAlphaCumprod` when t_prev < 0. */
  alphaProdTPrev: number;
  betaProdT: number;
  sqrtAlphaProdT: number;
  sqrtBetaProdT: number;
  sqrtAlphaProdTPrev: number;
  /** σ²(η = 1) = (1 − ᾱ_prev)/(1 − ᾱ_t) · (1 − ᾱ_t/ᾱ_prev), the DDPM posterior variance. */
  variance: number;
  /** σ_t = η·√variance. */
  stdDevT: number;
  /** √(1 − ᾱ_prev − σ_t²), the weight of ε̂ in the "direction pointing to x_t". */
  directionCoefficient: number;
}

/** Options of `DDIMScheduler.stepDistribution`. */
export interface DDIMDistributionOptions {
  /** η: 0 is deterministic DDIM, 1 is DDPM-like ancestral sampling. Default 0. */
  eta?: number;
  /** Re-derive ε̂ from the clipped x̂₀ (only differs when clipSample is on). */
  useClippedModelOutput?: boolean;
}

/** Options of `DDIMScheduler.step`: η, and for η > 0 the noise or a generator. */
export interface DDIMStepOptions extends DDIMDistributionOptions, StepNoiseOptions {}

/** The Gaussian transition of a step; `S` is `number` for one timestep and `number[]` for one per row. */
export interface DDIMStepDistribution<S = number> {
  /** x̂₀, after clipping when clipSample is on. */
  predOriginalSample: Tensor;
  /** μ = √ᾱ_prev·x̂₀ + √(1 − ᾱ_prev − σ_t²)·ε̂: the mean of the transition (SPO's log-prob). */
  prevSampleMean: Tensor;
  /** σ_t, the standard deviation of the transition. */
  stdDevT: S;
}

/** What a DDIM step returns: the transition and the sample drawn from it. */
export interface DDIMStepOutput<S = number> extends DDIMStepDistribution<S> {
  /** x_{t−1} = prevSampleMean + σ_t·z (the same tensor as prevSampleMean when η = 0). */
  prevSample: Tensor;
}

/**
 * Denoising diffusion implicit models (arXiv 2010.02502) with diffusers' semantics:
 * x̂₀ = (x_t − √(1−ᾱ_t)·ε̂)/√ᾱ_t, x_{t−1} = √ᾱ_prev·x̂₀ + √(1 − ᾱ_prev − σ_t²)·ε̂ + σ_t·z.
 *
 * @example
 * ```ts
 * const scheduler = DDIMScheduler.fromConfig({ beta_schedule: "scaled_linear", beta_start: 0.00085,
 *   beta_end: 0.012, set_alpha_to_one: false, steps_offset: 1, clip_sample: false });
 * scheduler.setTimesteps(20);
 * scheduler.timesteps; // [951, 901, …, 51, 1]
 * const { prevSample } = scheduler.step(eps, 951, latents, { eta: 0 });
 * ```
 */
export class DDIMScheduler {
  /** diffusers' defaults for `DDIMScheduler()`. */
  static readonly defaults: Readonly<DDIMSchedulerConfig> = {
    ...DEFAULT_NOISE_SCHEDULE,
    clipSample: true,
    clipSampleRange: 1,
    setAlphaToOne: true,
    stepsOffset: 0,
    predictionType: "epsilon",
    timestepSpacing: "leading",
  };

  readonly config: Readonly<DDIMSchedulerConfig>;
  readonly schedule: NoiseSchedule;
  /** ᾱ used after the last step (t_prev < 0). */
  readonly finalAlphaCumprod: number;
  /** The standard deviation of the initial noise. */
  readonly initNoiseSigma = 1;
  #numInferenceSteps: number | null = null;
  #timesteps: number[] = [];

  /** Reads a diffusers config dict (snake_case); missing keys take diffusers' defaults. */
  static fromConfig(json: unknown): DDIMScheduler {
    const reader = schedulerConfigReader("DDIMScheduler", json);
    const d = DDIMScheduler.defaults;
    const config: DDIMSchedulerConfig = {
      ...readNoiseScheduleConfig(reader, ["linear", "scaled_linear", "squaredcos_cap_v2"], { hasZeroSnrRescale: true }),
      clipSample: reader.boolean("clip_sample", d.clipSample),
      clipSampleRange: reader.number("clip_sample_range", d.clipSampleRange),
      setAlphaToOne: reader.boolean("set_alpha_to_one", d.setAlphaToOne),
      stepsOffset: reader.integer("steps_offset", d.stepsOffset),
      predictionType: reader.choice("prediction_type", PREDICTION_TYPES, d.predictionType),
      timestepSpacing: reader.choice("timestep_spacing", TIMESTEP_SPACINGS, d.timestepSpacing),
    };
    reader.unsupported("thresholding", false);
    reader.finish();
    return new DDIMScheduler(config);
  }

  constructor(config: Partial<DDIMSchedulerConfig> = {}) {
    this.config = Object.freeze({ ...DDIMScheduler.defaults, ...config });
    this.schedule = new NoiseSchedule(this.config);
    this.finalAlphaCumprod = this.config.setAlphaToOne ? 1 : this.schedule.alphasCumprod[0];
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

  /** The timesteps of the sampling loop, largest first (empty before `setTimesteps`). */
  get timesteps(): readonly number[] {
    return this.#timesteps;
  }

  /** Chooses `numInferenceSteps` timesteps by `timestepSpacing` (+ `stepsOffset` for "leading"). */
  setTimesteps(numInferenceSteps: number): void {
    const options = {
      spacing: this.config.timestepSpacing,
      numTrainTimesteps: this.config.numTrainTimesteps,
      stepsOffset: this.config.stepsOffset,
    };
    const timesteps = discreteTimesteps(numInferenceSteps, options);
    checkTimesteps("DDIMScheduler", timesteps, numInferenceSteps, options);
    this.#numInferenceSteps = numInferenceSteps;
    this.#timesteps = timesteps;
  }

  /** DDIM needs no input scaling: returns `sample` itself. */
  scaleModelInput(sample: Tensor, _timestep?: number): Tensor {
    return sample;
  }

  /** t − T / n (integer division): the timestep a step from t lands on. */
  previousTimestep(timestep: number): number {
    return timestep - Math.floor(this.config.numTrainTimesteps / this.#requireSteps("previousTimestep"));
  }

  /** σ²(η = 1) between t and t_prev (diffusers `_get_variance`). */
  getVariance(timestep: number, prevTimestep: number = this.previousTimestep(timestep)): number {
    const alphaProdT = this.schedule.alphaProd(timestep, "getVariance");
    const alphaProdTPrev = this.#alphaProdPrev(prevTimestep);
    const betaProdT = f32(1 - alphaProdT);
    const betaProdTPrev = f32(1 - alphaProdTPrev);
    return f32(f32(betaProdTPrev / betaProdT) * f32(1 - f32(alphaProdT / alphaProdTPrev)));
  }

  /** The host constants of the step from `timestep` with noise weight `eta`. */
  stepCoefficients(timestep: number, eta = 0): DDIMStepCoefficients {
    if (!(eta >= 0)) throw new RangeError(`Cannot step DDIMScheduler with eta ${eta}: it must be >= 0`);
    const prevTimestep = this.previousTimestep(timestep);
    const alphaProdT = this.schedule.alphaProd(timestep, "DDIMScheduler.step");
    const alphaProdTPrev = this.#alphaProdPrev(prevTimestep);
    const betaProdT = f32(1 - alphaProdT);
    const variance = this.getVariance(timestep, prevTimestep);
    const stdDevT = f32(f32(eta) * f32(Math.sqrt(variance)));
    return {
      timestep,
      prevTimestep,
      alphaProdT,
      alphaProdTPrev,
      betaProdT,
      sqrtAlphaProdT: f32(Math.sqrt(alphaProdT)),
      sqrtBetaProdT: f32(Math.sqrt(betaProdT)),
      sqrtAlphaProdTPrev: f32(Math.sqrt(alphaProdTPrev)),
      variance,
      stdDevT,
      directionCoefficient: f32(Math.sqrt(f32(f32(1 - alphaProdTPrev) - f32(stdDevT * stdDevT)))),
    };
  }

  /**
   * The Gaussian transition of a step without drawing from it: p(x_{t−1} | x_t) = N(μ, σ_t²), with
   * μ = `prevSampleMean` and σ_t = `stdDevT` (what SPO's log-probability needs; no noise is
   * required even for η > 0). `timestep` is one number or one per batch row.
   */
  stepDistribution(modelOutput: Tensor, timestep: number, sample: Tensor, options?: DDIMDistributionOptions): DDIMStepDistribution<number>;
  stepDistribution(
    modelOutput: Tensor,
    timestep: readonly number[],
    sample: Tensor,
    options?: DDIMDistributionOptions,
  ): DDIMStepDistribution<number[]>;
  stepDistribution(
    modelOutput: Tensor,
    timestep: number | readonly number[],
    sample: Tensor,
    options: DDIMDistributionOptions = {},
  ): DDIMStepDistribution<number | number[]> {
    return this.#distribution(modelOutput, timestep, sample, options);
  }

  #distribution(
    modelOutput: Tensor,
    timestep: number | readonly number[],
    sample: Tensor,
    options: DDIMDistributionOptions,
  ): DDIMStepDistribution<number | number[]> {
    const action = "step DDIMScheduler";
    const eta = options.eta ?? 0;
    this.#requireSteps("step");
    checkSameShape(action, modelOutput, sample);
    const rows = rowTimesteps(action, timestep, sample.shape[0] ?? 1);
    const coefficients = new Map(rows.values.map((t) => [t, this.stepCoefficients(t, eta)]));
    const at = (pick: (c: DDIMStepCoefficients) => number) => rowOperand(rows, sample, (t) => pick(coefficients.get(t)!));
    const tensors = tidy(() => {
      // 1-3. x̂₀ and ε̂ from the model output
      const sqrtAlphaProdT = at((c) => c.sqrtAlphaProdT);
      const sqrtBetaProdT = at((c) => c.sqrtBetaProdT);
      const predicted = vpPrediction(this.config.predictionType, modelOutput, sample, sqrtAlphaProdT, sqrtBetaProdT, true);
      let predOriginalSample = predicted.predOriginalSample;
      let predEpsilon = predicted.predEpsilon!;
      // 4. clip x̂₀
      if (this.config.clipSample) {
        const range = this.config.clipSampleRange;
        predOriginalSample = clamp(predOriginalSample, -range, range);
      }
      if (options.useClippedModelOutput === true)
        predEpsilon = epsilonFromOriginal(sample, predOriginalSample, sqrtAlphaProdT, sqrtBetaProdT);
      // 5-7. μ = √ᾱ_prev·x̂₀ + √(1 − ᾱ_prev − σ²)·ε̂ (formula (12))
      const direction = mul(
        at((c) => c.directionCoefficient),
        predEpsilon,
      );
      const prevSampleMean = add(
        mul(
          at((c) => c.sqrtAlphaProdTPrev),
          predOriginalSample,
        ),
        direction,
      );
      return { predOriginalSample, prevSampleMean };
    });
    return { ...tensors, stdDevT: rowValues(rows, (t) => coefficients.get(t)!.stdDevT) };
  }

  /**
   * One reverse step x_t → x_{t−1} = μ + σ_t·z (see `stepDistribution`). `timestep` is one number
   * for the batch or one per batch row (the constants then broadcast as [B, 1, …, 1] tensors).
   * With η > 0 the noise z comes from `noise` (diffusers `variance_noise`) or `generator`.
   */
  step(modelOutput: Tensor, timestep: number, sample: Tensor, options?: DDIMStepOptions): DDIMStepOutput<number>;
  step(modelOutput: Tensor, timestep: readonly number[], sample: Tensor, options?: DDIMStepOptions): DDIMStepOutput<number[]>;
  step(
    modelOutput: Tensor,
    timestep: number | readonly number[],
    sample: Tensor,
    options: DDIMStepOptions = {},
  ): DDIMStepOutput<number | number[]> {
    const eta = options.eta ?? 0;
    const action = `step DDIMScheduler with eta ${eta}`;
    if (eta > 0) checkNoiseOptions(action, sample.shape, options);
    const distribution = this.#distribution(modelOutput, timestep, sample, options);
    if (eta === 0) return { ...distribution, prevSample: distribution.prevSampleMean };
    const { noise, isDrawn } = resolveNoise(action, sample.shape, options);
    const rows = rowTimesteps("step DDIMScheduler", timestep, sample.shape[0] ?? 1);
    const stdDevT = rowOperand(rows, sample, (t) => this.stepCoefficients(t, eta).stdDevT);
    // x_{t−1} = μ + σ_t·z
    const prevSample = tidy(() => add(distribution.prevSampleMean, mul(stdDevT, noise)));
    if (isDrawn) noise.dispose();
    if (typeof stdDevT !== "number") stdDevT.dispose();
    return { ...distribution, prevSample };
  }

  /** x_t = √ᾱ_t·x₀ + √(1 − ᾱ_t)·ε, with one timestep per batch row (or one for all). */
  addNoise(original: Tensor, noise: Tensor, timesteps: NoiseTimesteps): Tensor {
    return addNoiseVp(this.schedule, original, noise, timesteps);
  }

  /** The v-prediction target √ᾱ_t·ε − √(1 − ᾱ_t)·x₀. */
  getVelocity(sample: Tensor, noise: Tensor, timesteps: NoiseTimesteps): Tensor {
    return velocityVp(this.schedule, sample, noise, timesteps);
  }

  #alphaProdPrev(prevTimestep: number): number {
    return prevTimestep >= 0 ? this.schedule.alphaProd(prevTimestep, "DDIMScheduler.step") : this.finalAlphaCumprod;
  }

  #requireSteps(action: string): number {
    if (this.#numInferenceSteps === null) {
      throw new Error(`Cannot run DDIMScheduler.${action}: call setTimesteps(numInferenceSteps) first`);
    }
    return this.#numInferenceSteps;
  }
}
