/**
 * One branching step of SPO's sampler: k children of each parent drawn from the same DDIM (η = 1)
 * Gaussian N(μ, σ_t²) with independent Philox noise, laid out k-major (child j of prompt b is row
 * j·B + b), and the helpers that pick rows out of that layout.
 *
 * @module
 */

import { add, concat, mul, narrow, type Tensor, tidy } from "@spo/wgpu-tensor";
import { rowConstant, type TransitionSchedule, transitionMean } from "../losses/transition_log_prob.ts";
import { repeatRows } from "./guided_denoiser.ts";

/** Anything that draws standard-normal tensors in sequence (`RandomGenerator` of @spo/wgpu-tensor). */
export interface NormalSource {
  randn(shape: readonly number[]): Tensor;
}

/** The children of one step and how they were drawn. */
export interface Children {
  /** [k·B, …] k-major. */
  children: Tensor;
  /** The standard-normal draws z, [k·B, …]. */
  noise: Tensor;
  /** The shared mean μ of each parent, [B, …]. */
  mean: Tensor;
  /** σ_t per parent. */
  stdDevT: number[];
}

/**
 * Draws `k` children x_{t−1} = μ + σ_t·z of each parent x_t from the transition built from `eps`
 * (the parents' CFG ε̂ at `timestep`). The caller disposes the returned tensors.
 *
 * @example
 * ```ts
 * const { children } = sampleChildren(scheduler, eps, 751, parents, 4, generator); // [4·B, 4, 64, 64]
 * ```
 */
export function sampleChildren(
  schedule: TransitionSchedule,
  eps: Tensor,
  timestep: number,
  parents: Tensor,
  k: number,
  generator: NormalSource,
  eta = 1,
): Children {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`Cannot sample ${k} children per parent: k must be a positive integer`);
  const batch = parents.shape[0];
  const timesteps = new Array<number>(batch).fill(timestep);
  return tidy(() => {
    const { mean, stdDevT, predOriginalSample } = transitionMean(schedule, eps, timesteps, parents, eta);
    predOriginalSample.dispose();
    const noise = generator.randn([k * batch, ...parents.shape.slice(1)]);
    const sigma = rowConstant(Array.from({ length: k }, () => stdDevT).flat(), noise);
    const children = add(repeatRows(mean, k), mul(sigma, noise));
    return { children, noise, mean, stdDevT };
  });
}

/** Rows `indices[b]·batch + b` of a k-major tensor: one child per prompt, [B, …]. */
export function pickChildren(children: Tensor, indices: ArrayLike<number>, batch: number): Tensor {
  return tidy(() =>
    concat(
      Array.from(indices, (j, b) => narrow(children, 0, j * batch + b, 1)),
      0,
    ),
  );
}

/** Row `row` of a tensor as host values. */
export async function hostRow(t: Tensor, row: number): Promise<Float32Array> {
  const slice = narrow(t, 0, row, 1);
  const values = Float32Array.from(await slice.toArray());
  slice.dispose();
  return values;
}
