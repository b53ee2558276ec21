/**
 * Per-timestep constants as elementwise operands. One timestep for the whole batch gives plain
 * numbers (passed to the kernels as uniforms); one timestep per batch row gives `[B, 1, …, 1]`
 * tensors that broadcast over the rest of the sample, like diffusers' `add_noise` unsqueezes.
 * @module
 */
import { type Tensor, tensor } from "@spo/wgpu-tensor";

/** A number or a tensor, as the elementwise ops take them. */
export type Operand = Tensor | number;

/** Timesteps of a batch: one shared timestep (a number), or one per row (an array, possibly of 1). */
export interface RowTimesteps {
  values: number[];
  isShared: boolean;
}

/** Reads `timestep` (a number, or one per row of a batch of `batch`). */
export function rowTimesteps(action: string, timesteps: number | ArrayLike<number>, batch: number): RowTimesteps {
  if (typeof timesteps === "number") return { values: [timesteps], isShared: true };
  const values = Array.from(timesteps);
  if (values.length !== batch && values.length !== 1) {
    throw new RangeError(`Cannot ${action}: got ${values.length} timesteps for a batch of ${batch}, expected 1 or ${batch}`);
  }
  return { values, isShared: false };
}

/**
 * `f(t)` for every timestep as an operand broadcasting against `sample`: the number itself when
 * shared, else a tensor of shape [B, 1, …, 1] on the sample's device.
 */
export function rowOperand(timesteps: RowTimesteps, sample: Tensor, f: (t: number) => number): Operand {
  if (timesteps.isShared) return f(timesteps.values[0]);
  const values = Float32Array.from(timesteps.values, f);
  return tensor(values, rowShape(values.length, sample.ndim), { device: sample.device });
}

/** [rows, 1, …, 1] with `rank` dimensions. */
export function rowShape(rows: number, rank: number): number[] {
  return [rows, ...new Array<number>(Math.max(rank - 1, 0)).fill(1)];
}

/** `f(t)`: one number for a shared timestep, else one per row. */
export function rowValues(timesteps: RowTimesteps, f: (t: number) => number): number | number[] {
  return timesteps.isShared ? f(timesteps.values[0]) : timesteps.values.map(f);
}
