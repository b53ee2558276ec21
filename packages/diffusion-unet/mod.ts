/**
 * Stable Diffusion 1.5's denoiser and its samplers on WebGPU: diffusers-compatible noise
 * schedulers (DDIM with η, DDPM, Euler ancestral, DPM-Solver++ 2M with Karras σ) built from a
 * diffusers `scheduler_config.json`, and classifier-free guidance.
 *
 * @example
 * ```ts
 * import { Device, randn, tensor } from "@spo/wgpu-tensor";
 * import { DDIMScheduler } from "@spo/diffusion-unet";
 *
 * Device.setDefault(await Device.create());
 * const scheduler = DDIMScheduler.fromConfig({ beta_schedule: "scaled_linear", beta_start: 0.00085,
 *   beta_end: 0.012, set_alpha_to_one: false, steps_offset: 1, clip_sample: false });
 * scheduler.setTimesteps(20);
 * let x = randn([1, 4, 8, 8], { seed: 0 });
 * for (const t of scheduler.timesteps) x = scheduler.step(eps(x, t), t, x).prevSample;
 * ```
 * @module
 */
export { classifierFreeGuidance } from "./schedulers/guidance.ts";
export { addNoiseVp, type NoiseTimesteps, velocityVp } from "./schedulers/add_noise.ts";
export {
  type DDIMDistributionOptions,
  DDIMScheduler,
  type DDIMSchedulerConfig,
  type DDIMStepCoefficients,
  type DDIMStepDistribution,
  type DDIMStepOptions,
  type DDIMStepOutput,
} from "./schedulers/ddim_scheduler.ts";
export {
  DDPMScheduler,
  type DDPMSchedulerConfig,
  type DDPMStepCoefficients,
  type DDPMStepOutput,
  type DDPMVarianceType,
} from "./schedulers/ddpm_scheduler.ts";
export {
  EulerAncestralDiscreteScheduler,
  type EulerAncestralDiscreteSchedulerConfig,
  type EulerAncestralStepOutput,
} from "./schedulers/euler_ancestral_discrete_scheduler.ts";
export {
  DPMSolverMultistepScheduler,
  type DPMSolverMultistepSchedulerConfig,
  type DPMSolverStepOutput,
} from "./schedulers/dpm_solver_multistep_scheduler.ts";
export type { NoiseGenerator, StepNoiseOptions } from "./schedulers/noise.ts";
export { type BetaSchedule, DEFAULT_NOISE_SCHEDULE, NoiseSchedule, type NoiseScheduleConfig } from "./schedulers/noise_schedule.ts";
export {
  DiffusersConfigReader,
  parseDiffusersJson,
  type PredictionType,
  schedulerConfigReader,
  SD15_SCHEDULER_CONFIG,
  UnsupportedConfigError,
} from "./schedulers/scheduler_config.ts";
export type { TimestepSpacing } from "./schedulers/timestep_spacing.ts";
export { UNet2DConditionModel, type Timesteps, type UNetForwardOptions } from "./unet/unet_2d_condition.ts";
export { SD15_UNET_CONFIG, type UNetConfig, unetConfigFromDiffusers } from "./unet/config.ts";
export { timestepProjection } from "./unet/embeddings.ts";
export { diffusersToLdmUNetKey, LDM_UNET_PREFIX, ldmKeyMap } from "./loading/ldm_key_map.ts";
