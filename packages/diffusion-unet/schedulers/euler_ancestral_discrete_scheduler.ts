import { add, div, mul, sub, type Tensor, tidy } from "@spo/wgpu-tensor";
import { f32, interpUnitGrid, linspace } from "./_numpy.ts";
import { rowOperand, rowTimesteps } from "./_per_row.ts";
import { checkNoiseOptions, checkSameShape, resolveNoise, type StepNoiseOptions } from "./noise.ts";
import { DEFAULT_NOISE_SCHEDULE, NoiseSchedule, type NoiseScheduleConfig, readNoiseScheduleConfig } from "./noise_schedule.ts";
import { schedulerConfigReader } from "./scheduler_config.ts";
import { checkTimesteps, eulerTimesteps, TIMESTEP_SPACINGS, type TimestepSpacing } from "./timestep_spacing.ts";

/** The typed fields of a diffusers `EulerAncestralDiscreteScheduler` config (0.26), camelCase. */
export interface EulerAncestralDiscreteSchedulerConfig extends NoiseScheduleConfig {
  /** diffusers raises NotImplementedError for "sample" in this scheduler. */
  predictionType: "epsilon" | "v_prediction";
  timestepSpacing: TimestepSpacing;
  stepsOffset: number;
}

/** What an Euler ancestral step returns. */
export interface EulerAncestralStepOutput {
  prevSample: Tensor;
  predOriginalSample: Tensor;
}

/**
 * Euler ancestral sampling ("Euler a", k-diffusion `sample_euler_ancestral`) on the σ scale,
 * σ = √((1 − ᾱ)/ᾱ), with diffusers' semantics: x̂₀ = x − σ·ε̂, σ_up = √(σ_next²(σ² − σ_next²)/σ²),
 * σ_down = √(σ_next² − σ_up²), x ← x + ((x − x̂₀)/σ)·(σ_down − σ) + σ_up·z.
 * The model sees x/√(σ² + 1) (`scaleModelInput`); the initial noise is scaled by `initNoiseSigma`.
 *
 * @example
 * ```ts
 * const scheduler = EulerAncestralDiscreteScheduler.fromConfig({ beta_schedule: "scaled_linear",
 *   beta_start: 0.00085, beta_end: 0.012 });
 * scheduler.setTimesteps(20);
 * let x = mul(noise, scheduler.initNoiseSigma);
 * for (const [i, t] of scheduler.timesteps.entries()) {
 *   const eps = unet(scheduler.scaleModelInput(x, t), t);
 *   x = scheduler.step(eps, t, x, { noise: stepNoise[i] }).prevSample;
 * }
 * ```
 */
export class EulerAncestralDiscreteScheduler {
  /** diffusers' defaults for `EulerAncestralDiscreteScheduler()`. */
  static readonly defaults: Readonly<EulerAncestralDiscreteSchedulerConfig> = {
    ...DEFAULT_NOISE_SCHEDULE,
    predictionType: "epsilon",
    timestepSpacing: "linspace",
    stepsOffset: 0,
  };

  readonly config: Readonly<EulerAncestralDiscreteSchedulerConfig>;
  readonly schedule: NoiseSchedule;
  /** σ at every training timestep, float32 (index t). */
  readonly trainSigmas: Float32Array;
  #numInferenceSteps: number | null = null;
  #timesteps: number[];
  #sigmas: Float32Array;
  #stepIndex: number | null = null;

  /** Reads a diffusers config dict (snake_case); missing keys take diffusers' defaults. */
  static fromConfig(json: unknown): EulerAncestralDiscreteScheduler {
    const reader = schedulerConfigReader("EulerAncestralDiscreteScheduler", json);
    const d = EulerAncestralDiscreteScheduler.defaults;
    const config: EulerAncestralDiscreteSchedulerConfig = {
      ...readNoiseScheduleConfig(reader, ["linear", "scaled_linear", "squaredcos_cap_v2"], { hasZeroSnrRescale: true }),
      predictionType: reader.choice("prediction_type", ["epsilon", "v_prediction"] as const, d.predictionType, ["sample"]),
      timestepSpacing: reader.choice("timestep_spacing", TIMESTEP_SPACINGS, d.timestepSpacing),
      stepsOffset: reader.integer("steps_offset", d.stepsOffset),
    };
    reader.finish();
    return new EulerAncestralDiscreteScheduler(config);
  }

  constructor(config: Partial<EulerAncestralDiscreteSchedulerConfig> = {}) {
    this.config = Object.freeze({ ...EulerAncestralDiscreteScheduler.defaults, ...config });
    this.schedule = new NoiseSchedule(this.config);
    const alphasCumprod = Float32Array.from(this.schedule.alphasCumprod);
    // diffusers: with a zero terminal SNR, ᾱ_T = 0 would make σ infinite; it uses 2⁻²⁴ instead
    if (this.config.rescaleBetasZeroSnr) alphasCumprod[alphasCumprod.length - 1] = 2 ** -24;
    this.trainSigmas = alphasCumprod.map((a) => f32(Math.sqrt(f32(f32(1 - a) / a))));
    const T = this.config.numTrainTimesteps;
    this.#timesteps = linspace(0, T - 1, T).reverse();
    this.#sigmas = Float32Array.from([...Array.from(this.trainSigmas).reverse(), 0]);
  }

  get numInferenceSteps(): number | null {
    return this.#numInferenceSteps;
  }

  /** The (float) timesteps of the sampling loop, largest first. */
  get timesteps(): readonly number[] {
    return this.#timesteps;
  }

  /** σ for each timestep, then a final 0 (float32 values). */
  get sigmas(): Float32Array {
    return this.#sigmas;
  }

  /** The standard deviation of the initial noise: σ_max, or √(σ_max² + 1) for "leading" spacing. */
  get initNoiseSigma(): number {
    const sigmaMax = this.#sigmas.reduce((max, s) => Math.max(max, s), 0);
    if (this.config.timestepSpacing === "leading") return f32(Math.sqrt(f32(f32(sigmaMax * sigmaMax) + 1)));
    return sigmaMax;
  }

  /** The index of the next step into `timesteps`/`sigmas` (null until the first step or scaling). */
  get stepIndex(): number | null {
    return this.#stepIndex;
  }

  /** Chooses the timesteps and interpolates σ at them (linear in t), plus a final σ = 0. */
  setTimesteps(numInferenceSteps: number): void {
    const options = {
      spacing: this.config.timestepSpacing,
      numTrainTimesteps: this.config.numTrainTimesteps,
      stepsOffset: this.config.stepsOffset,
    };
    const timesteps = eulerTimesteps(numInferenceSteps, options);
    checkTimesteps("EulerAncestralDiscreteScheduler", timesteps, numInferenceSteps, options);
    const sigmas = timesteps.map((t) => interpUnitGrid(t, this.trainSigmas));
    this.#numInferenceSteps = numInferenceSteps;
    this.#timesteps = timesteps;
    this.#sigmas = Float32Array.from([...sigmas, 0]);
    this.#stepIndex = null;
  }

  /** x/√(σ² + 1): the model input at the current step (sets the step index on first use). */
  scaleModelInput(sample: Tensor, timestep: number): Tensor {
    const sigma = this.#sigmas[this.#currentIndex(timestep)];
    return div(sample, f32(Math.sqrt(f32(f32(sigma * sigma) + 1))));
  }

  /**
   * One ancestral Euler step from σ_i to σ_{i+1}; the step index advances by one. The noise z
   * comes from `noise` or `generator` and is needed unless σ_up = 0 (the last step).
   */
  step(modelOutput: Tensor, timestep: number, sample: Tensor, options: StepNoiseOptions = {}): EulerAncestralStepOutput {
    const action = "step EulerAncestralDiscreteScheduler";
    checkSameShape(action, modelOutput, sample);
    const index = this.#currentIndex(timestep);
    const sigma = this.#sigmas[index];
    const sigmaTo = this.#sigmas[index + 1];
    const sigmaToSquared = f32(sigmaTo * sigmaTo);
    const sigmaSquared = f32(sigma * sigma);
    const sigmaUp = f32(Math.sqrt(f32(f32(sigmaToSquared * f32(sigmaSquared - sigmaToSquared)) / sigmaSquared)));
    const sigmaDown = f32(Math.sqrt(f32(sigmaToSquared - f32(sigmaUp * sigmaUp))));
    const noiseAction = `${action} at timestep ${timestep}`;
    if (sigmaUp > 0) checkNoiseOptions(noiseAction, sample.shape, options);
    const result = tidy(() => {
      // 1. x̂₀ from the model output
      const predOriginalSample =
        this.config.predictionType === "epsilon"
          ? sub(sample, mul(sigma, modelOutput))
          : add(mul(modelOutput, f32(-sigma / f32(Math.sqrt(f32(sigmaSquared + 1))))), div(sample, f32(sigmaSquared + 1)));
      // 2. Euler step along the ODE derivative d = (x − x̂₀)/σ to σ_down
      const derivative = div(sub(sample, predOriginalSample), sigma);
      let prevSample = add(sample, mul(derivative, f32(sigmaDown - sigma)));
      // 3. ancestral noise σ_up·z
      if (sigmaUp > 0) {
        const { noise } = resolveNoise(noiseAction, sample.shape, options);
        prevSample = add(prevSample, mul(noise, sigmaUp));
      }
      return { prevSample, predOriginalSample };
    });
    this.#stepIndex = index + 1;
    return result;
  }

  /** x + σ_t·ε with σ looked up at each row's timestep (which must be one of `timesteps`). */
  addNoise(original: Tensor, noise: Tensor, timesteps: number | ArrayLike<number>): Tensor {
    const rows = rowTimesteps("addNoise", timesteps, original.shape[0] ?? 1);
    const sigmaOf = (t: number) => this.#sigmas[indexForTimestep("EulerAncestralDiscreteScheduler.addNoise", this.#timesteps, t)];
    return tidy(() => add(original, mul(noise, rowOperand(rows, original, sigmaOf))));
  }

  #currentIndex(timestep: number): number {
    this.#stepIndex ??= indexForTimestep("EulerAncestralDiscreteScheduler", this.#timesteps, timestep);
    if (this.#stepIndex >= this.#timesteps.length) {
      throw new RangeError(
        `Cannot step EulerAncestralDiscreteScheduler: all ${this.#timesteps.length} steps are done (call setTimesteps again)`,
      );
    }
    return this.#stepIndex;
  }
}

/**
 * The position of `timestep` in `timesteps` (compared as float32). diffusers takes the second match
 * when there are two, so that img2img starting mid-schedule does not skip a σ.
 */
export function indexForTimestep(scheduler: string, timesteps: readonly number[], timestep: number): number {
  const wanted = f32(timestep);
  const matches = timesteps.flatMap((t, i) => (f32(t) === wanted ? [i] : []));
  if (matches.length === 0) {
    throw new RangeError(
      `Cannot find timestep ${timestep} in ${scheduler}'s timesteps: it is not one of the ${timesteps.length} set by setTimesteps`,
    );
  }
  return matches.length > 1 ? matches[1] : matches[0];
}
