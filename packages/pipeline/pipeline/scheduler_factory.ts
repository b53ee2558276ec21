/**
 * Sampler choice by name, built from a model folder's `scheduler/scheduler_config.json` the way
 * diffusers' `Scheduler.from_config(pipe.scheduler.config)` swaps schedulers (shared keys carry over).
 *
 * @module
 */

import {
  DDIMScheduler,
  DDPMScheduler,
  DPMSolverMultistepScheduler,
  EulerAncestralDiscreteScheduler,
  type NoiseGenerator,
} from "@spo/diffusion-unet";
import type { Tensor } from "@spo/wgpu-tensor";

/** The sampler names the pipeline and the command line accept. */
export const SCHEDULER_NAMES = ["ddim", "ddpm", "euler_a", "dpmpp_2m", "dpmpp_2m_karras"] as const;

/** One of {@link SCHEDULER_NAMES}: DDIM (η = 0), DDPM (ancestral), Euler ancestral, DPM-Solver++ 2M (optionally with Karras σ). */
export type SchedulerName = (typeof SCHEDULER_NAMES)[number];

/** What the sampling loop needs of a scheduler. */
export interface SamplingScheduler {
  readonly timesteps: readonly number[];
  readonly initNoiseSigma: number;
  setTimesteps(numInferenceSteps: number): void;
  scaleModelInput(sample: Tensor, timestep: number): Tensor;
  step(
    modelOutput: Tensor,
    timestep: number,
    sample: Tensor,
    options?: { generator?: NoiseGenerator },
  ): { prevSample: Tensor; predOriginalSample?: Tensor };
  dispose?(): void;
}

/** The config keys a scheduler class of diffusers would drop when another's config is handed to it. */
const FOREIGN_KEYS: Record<SchedulerName, readonly string[]> = {
  ddim: [
    "skip_prk_steps",
    "use_karras_sigmas",
    "solver_order",
    "algorithm_type",
    "solver_type",
    "lower_order_final",
    "euler_at_final",
    "final_sigmas_type",
    "lambda_min_clipped",
    "variance_type",
    "interpolation_type",
  ],
  ddpm: [
    "skip_prk_steps",
    "set_alpha_to_one",
    "use_karras_sigmas",
    "solver_order",
    "algorithm_type",
    "solver_type",
    "lower_order_final",
    "euler_at_final",
    "final_sigmas_type",
    "lambda_min_clipped",
    "interpolation_type",
  ],
  euler_a: [
    "skip_prk_steps",
    "clip_sample",
    "set_alpha_to_one",
    "use_karras_sigmas",
    "solver_order",
    "algorithm_type",
    "solver_type",
    "lower_order_final",
    "euler_at_final",
    "final_sigmas_type",
    "lambda_min_clipped",
    "variance_type",
    "clip_sample_range",
  ],
  dpmpp_2m: ["skip_prk_steps", "clip_sample", "set_alpha_to_one", "clip_sample_range", "interpolation_type"],
  dpmpp_2m_karras: ["skip_prk_steps", "clip_sample", "set_alpha_to_one", "clip_sample_range", "interpolation_type"],
};

/**
 * Builds the named scheduler from a diffusers scheduler config object (any scheduler class's, e.g.
 * SD1.5's PNDM config); keys the target class does not have are dropped like diffusers does.
 *
 * @example
 * ```ts
 * const scheduler = createScheduler("euler_a", JSON.parse(schedulerConfigJson));
 * scheduler.setTimesteps(20);
 * ```
 */
export function createScheduler(name: SchedulerName, config: Record<string, unknown>): SamplingScheduler {
  if (!(SCHEDULER_NAMES as readonly string[]).includes(name)) {
    throw new RangeError(`Cannot create scheduler "${name}": known schedulers are ${SCHEDULER_NAMES.join(", ")}`);
  }
  const json: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (!key.startsWith("_") && !FOREIGN_KEYS[name].includes(key)) json[key] = value;
  }
  switch (name) {
    case "ddim":
      return DDIMScheduler.fromConfig(json);
    case "ddpm":
      return DDPMScheduler.fromConfig(json);
    case "euler_a":
      return EulerAncestralDiscreteScheduler.fromConfig(json);
    case "dpmpp_2m":
      return DPMSolverMultistepScheduler.fromConfig({ ...json, algorithm_type: "dpmsolver++", solver_order: 2 });
    case "dpmpp_2m_karras":
      return DPMSolverMultistepScheduler.fromConfig({ ...json, algorithm_type: "dpmsolver++", solver_order: 2, use_karras_sigmas: true });
  }
}
