import { add, div, mul, sub, Tensor, tidy } from "@spo/wgpu-tensor";
import { f32 } from "./_numpy.ts";
import { alphaSigmaOf, dpmSolverSchedule, lambdaOf } from "./_dpm_solver_sigmas.ts";
import { rowOperand, rowTimesteps } from "./_per_row.ts";
import { indexForTimestep } from "./euler_ancestral_discrete_scheduler.ts";
import { checkSameShape } from "./noise.ts";
import { DEFAULT_NOISE_SCHEDULE, NoiseSchedule, type NoiseScheduleConfig, readNoiseScheduleConfig } from "./noise_schedule.ts";
import { PREDICTION_TYPES, type PredictionType, schedulerConfigReader } from "./scheduler_config.ts";
import { checkTimesteps, TIMESTEP_SPACINGS, type TimestepSpacing } from "./timestep_spacing.ts";

/** The typed fields of a diffusers `DPMSolverMultistepScheduler` config (0.26), camelCase. */
export interface DPMSolverMultistepSchedulerConfig extends NoiseScheduleConfig {
  /** 1, 2 ("DPM++ 2M"), 3; higher orders take third-order steps, as in diffusers. */
  solverOrder: number;
  predictionType: PredictionType;
  /** Only "dpmsolver++" (the data-prediction solver of arXiv 2211.01095) is implemented. */
  algorithmType: "dpmsolver++";
  solverType: "midpoint" | "heun";
  /** Lower the order near the end when there are fewer than 15 steps. */
  lowerOrderFinal: boolean;
  /** Always take the last step with first order. */
  eulerAtFinal: boolean;
  useKarrasSigmas: boolean;
  useLuLambdas: boolean;
  /** The σ after the last step: 0 (the last step returns x̂₀) or σ_min. */
  finalSigmasType: "zero" | "sigma_min";
  /** Ends the schedule before λ drops below this (−∞: never). */
  lambdaMinClipped: number;
  timestepSpacing: TimestepSpacing;
  stepsOffset: number;
}

/** diffusers registers the UniPC/DEIS solver types as "midpoint". */
function toMidpoint(solverType: "midpoint" | "heun" | "logrho" | "bh1" | "bh2"): "midpoint" | "heun" {
  return solverType === "heun" ? "heun" : "midpoint";
}

/** What a DPM-Solver step returns. */
export interface DPMSolverStepOutput {
  prevSample: Tensor;
  /** x̂₀ of this step (the converted model output the multistep state keeps). */
  predOriginalSample: Tensor;
}

/**
 * DPM-Solver++ multistep (arXiv 2211.01095; "DPM++ 2M" with order 2) with diffusers' semantics.
 * With λ = log α_t − log σ_t and h = λ_t − λ_s, the first-order step is
 * x_t = (σ_t/σ_s)·x_s − α_t(e^(−h) − 1)·x̂₀; the second-order (midpoint) step adds
 * −½·α_t(e^(−h) − 1)·D₁ with D₁ = (m₀ − m₁)/r₀, r₀ = h₀/h, using the previous x̂₀ m₁.
 * Stateful like diffusers: call `step` once per timestep in order; `setTimesteps` resets the state.
 * The kept x̂₀ tensors belong to the scheduler; `dispose()` frees them.
 *
 * @example
 * ```ts
 * const scheduler = DPMSolverMultistepScheduler.fromConfig({ beta_schedule: "scaled_linear",
 *   beta_start: 0.00085, beta_end: 0.012, use_karras_sigmas: true });
 * scheduler.setTimesteps(20);
 * for (const t of scheduler.timesteps) x = scheduler.step(unet(x, t), t, x).prevSample;
 * scheduler.dispose();
 * ```
 */
export class DPMSolverMultistepScheduler {
  /** diffusers' defaults for `DPMSolverMultistepScheduler()`. */
  static readonly defaults: Readonly<DPMSolverMultistepSchedulerConfig> = {
    ...DEFAULT_NOISE_SCHEDULE,
    solverOrder: 2,
    predictionType: "epsilon",
    algorithmType: "dpmsolver++",
    solverType: "midpoint",
    lowerOrderFinal: true,
    eulerAtFinal: false,
    useKarrasSigmas: false,
    useLuLambdas: false,
    finalSigmasType: "zero",
    lambdaMinClipped: -Infinity,
    timestepSpacing: "linspace",
    stepsOffset: 0,
  };

  readonly config: Readonly<DPMSolverMultistepSchedulerConfig>;
  readonly schedule: NoiseSchedule;
  readonly initNoiseSigma = 1;
  #timesteps: number[] = [];
  #sigmas: Float32Array = new Float32Array(0);
  #stepIndex: number | null = null;
  /** The last `solverOrder` x̂₀, oldest first (scheduler-owned aliases). */
  #modelOutputs: (Tensor | null)[];
  #lowerOrderNums = 0;

  /** Reads a diffusers config dict (snake_case); missing keys take diffusers' defaults. */
  static fromConfig(json: unknown): DPMSolverMultistepScheduler {
    const reader = schedulerConfigReader("DPMSolverMultistepScheduler", json);
    const d = DPMSolverMultistepScheduler.defaults;
    // diffusers registers "deis" as "dpmsolver++" and the UniPC/DEIS solver types as "midpoint"
    reader.choice("algorithm_type", ["dpmsolver++", "deis"] as const, d.algorithmType, ["dpmsolver", "sde-dpmsolver", "sde-dpmsolver++"]);
    const config: DPMSolverMultistepSchedulerConfig = {
      ...readNoiseScheduleConfig(reader, ["linear", "scaled_linear", "squaredcos_cap_v2"], { hasZeroSnrRescale: false }),
      solverOrder: reader.integer("solver_order", d.solverOrder, 1),
      predictionType: reader.choice("prediction_type", PREDICTION_TYPES, d.predictionType),
      algorithmType: "dpmsolver++",
      solverType: toMidpoint(reader.choice("solver_type", ["midpoint", "heun", "logrho", "bh1", "bh2"] as const, d.solverType)),
      lowerOrderFinal: reader.boolean("lower_order_final", d.lowerOrderFinal),
      eulerAtFinal: reader.boolean("euler_at_final", d.eulerAtFinal),
      useKarrasSigmas: reader.boolean("use_karras_sigmas", d.useKarrasSigmas),
      useLuLambdas: reader.boolean("use_lu_lambdas", d.useLuLambdas),
      finalSigmasType: reader.choice("final_sigmas_type", ["zero", "sigma_min"] as const, d.finalSigmasType),
      lambdaMinClipped: reader.number("lambda_min_clipped", d.lambdaMinClipped, { allowInfinite: true }),
      timestepSpacing: reader.choice("timestep_spacing", TIMESTEP_SPACINGS, d.timestepSpacing),
      stepsOffset: reader.integer("steps_offset", d.stepsOffset),
    };
    reader.choice("variance_type", [null], null, ["learned", "learned_range"]);
    reader.unsupported("thresholding", false);
    for (const key of ["use_exponential_sigmas", "use_beta_sigmas", "use_flow_sigmas"]) reader.unsupported(key, false);
    reader.finish();
    return new DPMSolverMultistepScheduler(config);
  }

  constructor(config: Partial<DPMSolverMultistepSchedulerConfig> = {}) {
    this.config = Object.freeze({ ...DPMSolverMultistepScheduler.defaults, ...config });
    const order = this.config.solverOrder;
    if (!Number.isInteger(order) || order < 1)
      throw new RangeError(`Cannot build DPMSolverMultistepScheduler: solver_order is ${order}, expected an integer >= 1`);
    this.schedule = new NoiseSchedule(this.config);
    this.#modelOutputs = new Array<Tensor | null>(order).fill(null);
  }

  get numInferenceSteps(): number | null {
    return this.#timesteps.length === 0 ? null : this.#timesteps.length;
  }

  /** The integer timesteps of the sampling loop, largest first. */
  get timesteps(): readonly number[] {
    return this.#timesteps;
  }

  /** σ for each timestep, then the final σ (0 or σ_min), float32 values. */
  get sigmas(): Float32Array {
    return this.#sigmas;
  }

  get stepIndex(): number | null {
    return this.#stepIndex;
  }

  /** How many steps the solver has taken at reduced order so far (diffusers `lower_order_nums`). */
  get lowerOrderNums(): number {
    return this.#lowerOrderNums;
  }

  /** Chooses timesteps and σ and clears the multistep state. */
  setTimesteps(numInferenceSteps: number): void {
    const c = this.config;
    const { timesteps, sigmas } = dpmSolverSchedule(this.schedule, numInferenceSteps, {
      spacing: c.timestepSpacing,
      stepsOffset: c.stepsOffset,
      useKarrasSigmas: c.useKarrasSigmas,
      useLuLambdas: c.useLuLambdas,
      finalSigmasType: c.finalSigmasType,
      lambdaMinClipped: c.lambdaMinClipped,
    });
    const options = { spacing: c.timestepSpacing, numTrainTimesteps: c.numTrainTimesteps, stepsOffset: c.stepsOffset };
    checkTimesteps("DPMSolverMultistepScheduler", timesteps, numInferenceSteps, options);
    this.dispose();
    this.#timesteps = timesteps;
    this.#sigmas = sigmas;
  }

  /** DPM-Solver needs no input scaling: returns `sample` itself. */
  scaleModelInput(sample: Tensor, _timestep?: number): Tensor {
    return sample;
  }

  /** x̂₀ from the model output at the current σ (diffusers `convert_model_output`, dpmsolver++). */
  convertModelOutput(modelOutput: Tensor, sample: Tensor): Tensor {
    const { alphaT, sigmaT } = alphaSigmaOf(this.#sigmas[this.#requireIndex()]);
    switch (this.config.predictionType) {
      case "epsilon":
        return tidy(() => div(sub(sample, mul(sigmaT, modelOutput)), alphaT));
      case "sample":
        return mul(modelOutput, 1);
      case "v_prediction":
        return tidy(() => sub(mul(alphaT, sample), mul(sigmaT, modelOutput)));
    }
  }

  /**
   * One multistep update from timesteps[i] to timesteps[i + 1]: first order on the first step and
   * where diffusers lowers the order at the end, else order `solverOrder` with the kept x̂₀.
   */
  step(modelOutput: Tensor, timestep: number, sample: Tensor): DPMSolverStepOutput {
    checkSameShape("step DPMSolverMultistepScheduler", modelOutput, sample);
    if (this.#timesteps.length === 0)
      throw new Error("Cannot run DPMSolverMultistepScheduler.step: call setTimesteps(numInferenceSteps) first");
    this.#stepIndex ??= this.#initialIndex(timestep);
    const index = this.#requireIndex();
    const count = this.#timesteps.length;
    const order = this.config.solverOrder;
    const isLast = index === count - 1;
    const lowerOrderFinal =
      isLast && (this.config.eulerAtFinal || (this.config.lowerOrderFinal && count < 15) || this.config.finalSigmasType === "zero");
    const lowerOrderSecond = index === count - 2 && this.config.lowerOrderFinal && count < 15;
    const predOriginalSample = this.convertModelOutput(modelOutput, sample);
    this.#modelOutputs.shift()?.dispose();
    this.#modelOutputs.push(Tensor.alias(predOriginalSample));
    let prevSample: Tensor;
    if (order === 1 || this.#lowerOrderNums < 1 || lowerOrderFinal) {
      prevSample = this.#firstOrderUpdate(predOriginalSample, sample, index);
    } else if (order === 2 || this.#lowerOrderNums < 2 || lowerOrderSecond) {
      prevSample = this.#secondOrderUpdate(sample, index);
    } else {
      prevSample = this.#thirdOrderUpdate(sample, index);
    }
    if (this.#lowerOrderNums < order) this.#lowerOrderNums += 1;
    this.#stepIndex = index + 1;
    return { prevSample, predOriginalSample };
  }

  /** α_t·x₀ + σ_t·ε with σ looked up at each row's timestep (which must be one of `timesteps`). */
  addNoise(original: Tensor, noise: Tensor, timesteps: number | ArrayLike<number>): Tensor {
    const rows = rowTimesteps("addNoise", timesteps, original.shape[0] ?? 1);
    const sigmaOf = (t: number) => this.#sigmas[indexForTimestep("DPMSolverMultistepScheduler.addNoise", this.#timesteps, t)];
    return tidy(() => {
      const alphaT = rowOperand(rows, original, (t) => alphaSigmaOf(sigmaOf(t)).alphaT);
      const sigmaT = rowOperand(rows, original, (t) => alphaSigmaOf(sigmaOf(t)).sigmaT);
      return add(mul(alphaT, original), mul(sigmaT, noise));
    });
  }

  /** Frees the kept x̂₀ and forgets the multistep state (also done by `setTimesteps`). */
  dispose(): void {
    this.#modelOutputs.forEach((t) => t?.dispose());
    this.#modelOutputs = this.#modelOutputs.map(() => null);
    this.#lowerOrderNums = 0;
    this.#stepIndex = null;
  }

  /** x_t = (σ_t/σ_s)·x − α_t(e^(−h) − 1)·x̂₀ */
  #firstOrderUpdate(predOriginalSample: Tensor, sample: Tensor, index: number): Tensor {
    const [t, s] = this.#points(index, 2);
    const h = f32(t.lambda - s.lambda);
    const coefficient = f32(t.alphaT * f32(f32(Math.exp(-h)) - 1));
    return tidy(() => sub(mul(f32(t.sigmaT / s.sigmaT), sample), mul(coefficient, predOriginalSample)));
  }

  /** The second-order multistep update (midpoint or Heun) with m₀ = x̂₀ now, m₁ = x̂₀ before. */
  #secondOrderUpdate(sample: Tensor, index: number): Tensor {
    const [t, s0, s1] = this.#points(index, 3);
    const [m1, m0] = this.#modelOutputs.slice(-2) as Tensor[];
    const h = f32(t.lambda - s0.lambda);
    const h0 = f32(s0.lambda - s1.lambda);
    const r0 = f32(h0 / h);
    const expMinusOne = f32(f32(Math.exp(-h)) - 1);
    const c0 = f32(t.alphaT * expMinusOne);
    return tidy(() => {
      const d1 = mul(f32(1 / r0), sub(m0, m1));
      const x = sub(mul(f32(t.sigmaT / s0.sigmaT), sample), mul(c0, m0));
      if (this.config.solverType === "midpoint") return sub(x, mul(f32(0.5 * c0), d1));
      return add(x, mul(f32(t.alphaT * f32(f32(expMinusOne / h) + 1)), d1));
    });
  }

  /** The third-order multistep update with m₀, m₁, m₂ the last three x̂₀ (also for orders above 3). */
  #thirdOrderUpdate(sample: Tensor, index: number): Tensor {
    const [t, s0, s1, s2] = this.#points(index, 4);
    const [m2, m1, m0] = this.#modelOutputs.slice(-3) as Tensor[];
    const h = f32(t.lambda - s0.lambda);
    const r0 = f32(f32(s0.lambda - s1.lambda) / h);
    const r1 = f32(f32(s1.lambda - s2.lambda) / h);
    const expMinusOne = f32(f32(Math.exp(-h)) - 1);
    return tidy(() => {
      const d10 = mul(f32(1 / r0), sub(m0, m1));
      const d11 = mul(f32(1 / r1), sub(m1, m2));
      const d1 = add(d10, mul(f32(r0 / f32(r0 + r1)), sub(d10, d11)));
      const d2 = mul(f32(1 / f32(r0 + r1)), sub(d10, d11));
      const x = add(
        sub(mul(f32(t.sigmaT / s0.sigmaT), sample), mul(f32(t.alphaT * expMinusOne), m0)),
        mul(f32(t.alphaT * f32(f32(expMinusOne / h) + 1)), d1),
      );
      return sub(x, mul(f32(t.alphaT * f32(f32(f32(f32(expMinusOne + h) / f32(h * h))) - 0.5)), d2));
    });
  }

  /** α, σ_t and λ at σ[index + 1] (the target) and back from σ[index], as many as `count`. */
  #points(index: number, count: number): { alphaT: number; sigmaT: number; lambda: number }[] {
    return Array.from({ length: count }, (_, k) => {
      const { alphaT, sigmaT } = alphaSigmaOf(this.#sigmas[index + 1 - k]);
      return { alphaT, sigmaT, lambda: lambdaOf(alphaT, sigmaT) };
    });
  }

  /** diffusers `_init_step_index`: the timestep's position, or the last step when it is not listed. */
  #initialIndex(timestep: number): number {
    const found = this.#timesteps.includes(timestep);
    return found ? indexForTimestep("DPMSolverMultistepScheduler", this.#timesteps, timestep) : this.#timesteps.length - 1;
  }

  #requireIndex(): number {
    const index = this.#stepIndex;
    if (index === null) throw new Error("Cannot convert a model output in DPMSolverMultistepScheduler before its first step");
    if (index >= this.#timesteps.length) {
      throw new RangeError(
        `Cannot step DPMSolverMultistepScheduler: all ${this.#timesteps.length} steps are done (call setTimesteps again)`,
      );
    }
    return index;
  }
}
