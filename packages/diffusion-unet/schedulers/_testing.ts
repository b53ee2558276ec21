/** Small helpers shared by the scheduler tests (not exported by the package). */
import fc from "fast-check";
import { type Tensor, tensor } from "@spo/wgpu-tensor";
import { seededValues } from "@spo/wgpu-tensor/testing";

/** SD1.5's scheduler fields (shared/research/sd15.md §4.1). */
export const SD15 = {
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: "scaled_linear",
  set_alpha_to_one: false,
  steps_offset: 1,
  clip_sample: false,
} as const;

/** A GPU tensor of seeded values in [−scale, scale) and the same values on the host. */
export function randomTensor(shape: readonly number[], seed: number, scale = 1): { tensor: Tensor; data: Float32Array } {
  const data = Float32Array.from(
    seededValues(
      seed,
      shape.reduce((a, b) => a * b, 1),
      -scale,
      scale,
    ),
  );
  return { tensor: tensor(data, [...shape]), data };
}

/** The values of an f32 tensor. */
export async function read(t: Tensor): Promise<Float32Array> {
  return Float32Array.from(await t.toArray());
}

/** Small latent shapes [B, C, H, W] including 1s and odd sizes. */
export const arbLatentShape: fc.Arbitrary<number[]> = fc.tuple(
  fc.integer({ min: 1, max: 3 }),
  fc.constantFrom(1, 3, 4),
  fc.integer({ min: 1, max: 9 }),
  fc.integer({ min: 1, max: 9 }),
);

/** |got − want| ≤ atol + rtol·|want| for every element, naming the first failure. */
export function assertNear(got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number, label: string): void {
  if (got.length !== want.length) throw new Error(`${label}: ${got.length} values, expected ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= atol + rtol * Math.abs(want[i]))) {
      throw new Error(`${label}: element ${i} is ${got[i]}, expected ${want[i]}`);
    }
  }
}
