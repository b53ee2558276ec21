/**
 * Reading a diffusers `scheduler_config.json` object once, at the boundary: snake_case keys in,
 * typed values out, every wrong type or unsupported value rejected by name (with the shared
 * DiffusersConfigReader of @spo/wgpu-tensor).
 * @module
 */
import { DiffusersConfigReader } from "@spo/wgpu-tensor";

export { DiffusersConfigReader, parseDiffusersJson, UnsupportedConfigError } from "@spo/wgpu-tensor";

/** What the denoising model predicts: the noise ε, the velocity v = √ᾱ·ε − √(1−ᾱ)·x₀, or x₀ itself. */
export type PredictionType = "epsilon" | "v_prediction" | "sample";

export const PREDICTION_TYPES: readonly PredictionType[] = ["epsilon", "v_prediction", "sample"];

/**
 * Keys that some diffusers scheduler writes to its config. A scheduler ignores the keys of its
 * siblings, as diffusers' `from_config` does (SD1.5 ships a PNDM config that every sampler reads),
 * but a key no scheduler knows is a typo and is rejected.
 */
const DIFFUSERS_SCHEDULER_KEYS: ReadonlySet<string> = new Set([
  "num_train_timesteps",
  "beta_start",
  "beta_end",
  "beta_schedule",
  "trained_betas",
  "clip_sample",
  "clip_sample_range",
  "set_alpha_to_one",
  "steps_offset",
  "prediction_type",
  "thresholding",
  "dynamic_thresholding_ratio",
  "sample_max_value",
  "timestep_spacing",
  "rescale_betas_zero_snr",
  "variance_type",
  "skip_prk_steps",
  "solver_order",
  "algorithm_type",
  "solver_type",
  "lower_order_final",
  "euler_at_final",
  "use_karras_sigmas",
  "use_lu_lambdas",
  "use_exponential_sigmas",
  "use_beta_sigmas",
  "use_flow_sigmas",
  "flow_shift",
  "final_sigmas_type",
  "lambda_min_clipped",
  "interpolation_type",
  "sigma_min",
  "sigma_max",
  "sigma_data",
  "rho",
  "timestep_type",
  "disable_corrector",
  "predict_x0",
  "solver_p",
  "original_inference_steps",
  "timestep_scaling",
  "s_noise",
  "noise_sampler_seed",
  "predict_epsilon",
  "tensor_format",
  "shift",
  "use_dynamic_shifting",
  "base_shift",
  "max_shift",
  "base_image_seq_len",
  "max_image_seq_len",
  "invert_sigmas",
  "shift_terminal",
  "time_shift_type",
  "stochastic_sampling",
  "sigma_schedule",
]);

/**
 * A reader for one scheduler's fields: a key of a sibling scheduler is ignored, as diffusers'
 * `from_config` does, and a key no diffusers scheduler writes is rejected as a typo.
 *
 * @example
 * ```ts
 * const reader = schedulerConfigReader("DDIMScheduler", { beta_schedule: "scaled_linear", solver_order: 2 });
 * reader.choice("beta_schedule", ["linear", "scaled_linear"] as const, "linear"); // "scaled_linear"
 * reader.finish(); // solver_order belongs to DPM-Solver: ignored
 * ```
 */
export function schedulerConfigReader(className: string, json: unknown): DiffusersConfigReader {
  return new DiffusersConfigReader(className, json, { knownKeys: DIFFUSERS_SCHEDULER_KEYS });
}

/**
 * `scheduler/scheduler_config.json` of runwayml/stable-diffusion-v1-5 (a PNDM config; every
 * scheduler here reads the keys it knows from it).
 *
 * @example
 * ```ts
 * const scheduler = DDIMScheduler.fromConfig(SD15_SCHEDULER_CONFIG);
 * ```
 */
export const SD15_SCHEDULER_CONFIG: Readonly<Record<string, unknown>> = Object.freeze({
  _class_name: "PNDMScheduler",
  _diffusers_version: "0.6.0",
  beta_end: 0.012,
  beta_schedule: "scaled_linear",
  beta_start: 0.00085,
  num_train_timesteps: 1000,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  trained_betas: null,
  clip_sample: false,
});
