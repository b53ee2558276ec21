/**
 * Pairs between sampling and training: a seeded shuffle (Fisher–Yates on uniform draws of the
 * run's generator, so resuming replays it), minibatches of at most n pairs, and uploading a
 * minibatch's latents as [m, C, H, W] tensors.
 *
 * @module
 */

import { type Device, type Tensor, tensor } from "@spo/wgpu-tensor";
import type { UniformSource } from "../sampler/resampler.ts";

/** A permutation of [0, n) from one uniform draw per position of `generator`. */
export async function seededPermutation(n: number, generator: UniformSource): Promise<number[]> {
  const order = Array.from({ length: n }, (_, i) => i);
  if (n < 2) return order;
  const draw = generator.rand([n]);
  const u = await draw.toArray();
  draw.dispose();
  for (let i = n - 1; i > 0; i--) {
    const j = Math.min(Math.floor(u[i] * (i + 1)), i);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** `items` cut into consecutive groups of at most `size`. */
export function minibatches<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`Cannot cut minibatches of size ${size}: it must be a positive integer`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Stacks host latents of one shape into a [m, …shape] tensor. */
export function stackHost(rows: readonly Float32Array[], shape: readonly number[], device?: Device): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(rows.length * size);
  rows.forEach((row, i) => {
    if (row.length !== size)
      throw new RangeError(`Cannot stack latents: row ${i} has ${row.length} values, expected ${size} for shape [${shape}]`);
    data.set(row, i * size);
  });
  return tensor(data, [rows.length, ...shape], { device });
}
