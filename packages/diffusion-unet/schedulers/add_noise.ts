import { add, mul, sub, type Tensor, tensor, tidy } from "@spo/wgpu-tensor";
import { gatherTimesteps } from "./_timestep_gather.ts";
import { type Operand, rowOperand, rowShape, rowTimesteps } from "./_per_row.ts";
import type { NoiseSchedule } from "./noise_schedule.ts";

/**
 * Timesteps for `addNoise`: one for the whole batch, one per batch row (host numbers), or a 1-D
 * tensor of one per row (i32, u32 or integer-valued f32) that stays on the device.
 */
export type NoiseTimesteps = number | ArrayLike<number> | Tensor;

/**
 * The forward process of a variance-preserving schedule (diffusers `add_noise` of DDPM and DDIM):
 * x_t = √ᾱ_t · x₀ + √(1 − ᾱ_t) · ε, with t looked up per batch row.
 *
 * Host timesteps are range-checked; tensor timesteps cannot be read without waiting for the GPU,
 * so out-of-range values are clamped into [0, T) instead.
 *
 * @example
 * ```ts
 * const xt = addNoiseVp(scheduler.schedule, x0, eps, [999, 500]); // x0, eps: [2, 4, 8, 8]
 * ```
 */
export function addNoiseVp(schedule: NoiseSchedule, original: Tensor, noise: Tensor, timesteps: NoiseTimesteps): Tensor {
  return tidy(() => {
    const [a, b] = coefficients("addNoise", schedule, original, timesteps);
    return add(mul(a, original), mul(b, noise));
  });
}

/**
 * The v-prediction target (diffusers `get_velocity`): v = √ᾱ_t · ε − √(1 − ᾱ_t) · x₀.
 *
 * @example
 * ```ts
 * const target = velocityVp(scheduler.schedule, x0, eps, timesteps);
 * ```
 */
export function velocityVp(schedule: NoiseSchedule, sample: Tensor, noise: Tensor, timesteps: NoiseTimesteps): Tensor {
  return tidy(() => {
    const [a, b] = coefficients("getVelocity", schedule, sample, timesteps);
    return sub(mul(a, noise), mul(b, sample));
  });
}

/** [√ᾱ_t, √(1 − ᾱ_t)] as operands broadcasting against `sample`. */
function coefficients(action: string, schedule: NoiseSchedule, sample: Tensor, timesteps: NoiseTimesteps): [Operand, Operand] {
  const batch = sample.shape[0] ?? 1;
  if (typeof timesteps === "number" || !("shape" in timesteps)) {
    const rows = rowTimesteps(action, timesteps, batch);
    rows.values.forEach((t) => schedule.checkTimestep(t, action));
    return [
      rowOperand(rows, sample, (t) => schedule.sqrtAlphasCumprod[t]),
      rowOperand(rows, sample, (t) => schedule.sqrtOneMinusAlphasCumprod[t]),
    ];
  }
  if (timesteps.ndim !== 1 || (timesteps.shape[0] !== batch && timesteps.shape[0] !== 1)) {
    throw new RangeError(`Cannot ${action}: timesteps have shape [${timesteps.shape.join(", ")}], expected [${batch}] or [1]`);
  }
  const shape = rowShape(timesteps.shape[0], sample.ndim);
  const gathered = [schedule.sqrtAlphasCumprod, schedule.sqrtOneMinusAlphasCumprod].map((table) => {
    const values = gatherTimesteps(tensor(table, [table.length], { device: sample.device }), timesteps);
    return values.view(...shape);
  });
  return [gathered[0], gathered[1]];
}
