/**
 * `npm run parity -- <folder> --dtype f16`: model kinds build their models with f16 weights and
 * activations (as a user would run them) and are compared with tolerances derived from f16
 * rounding; kinds without weights (tokenizer, scheduler, …) run as in f32.
 *
 * The f16 allowance. f16 has a unit roundoff u = 2⁻¹¹ ≈ 4.9e-4: storing a value rounds it by a
 * relative error ≤ u. Matmul, conv, attention and norm statistics accumulate in f32, so each
 * layer adds one rounding of its stored output (and one of its weights), not one per term. A
 * model whose longest path has D layers with weights (its matrices and conv kernels: the
 * parameters of rank ≥ 2) therefore has, to first order and with layers of gain ≈ 1 (normalised
 * networks), an output error ≤ 2·D·u times the output's scale: D roundings of weights and D of
 * activations. The scale is the reference output's largest magnitude. So an output passes when
 * |got − want| ≤ atol + rtol·|want| + 2·D·u·max|want|, the manifest's f32 tolerance plus that term.
 * D counts every weighted layer of the model, more than its longest path (parallel branches such
 * as q/k/v count three times), which leaves room for gains a little above 1.
 * @module
 */
import type { Module } from "../../packages/wgpu-tensor/mod.ts";
import type { Tolerance } from "./manifest.ts";

/** f16's unit roundoff. */
export const F16_UNIT_ROUNDOFF = 2 ** -11;

/** D: the model's layers with weights (parameters of rank ≥ 2). */
export function weightedLayerCount(model: Module): number {
  return model.parameters().filter((p) => p.ndim >= 2).length;
}

/** The f16 term added to an output's atol: 2·D·u·max|want|. */
export function halfPrecisionAllowance(depth: number, want: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  return 2 * depth * F16_UNIT_ROUNDOFF * scale;
}

/** The manifest's tolerance widened by the f16 term. */
export function widenForHalfPrecision(tolerance: Tolerance, depth: number, want: ArrayLike<number>): Tolerance {
  return { atol: tolerance.atol + halfPrecisionAllowance(depth, want), rtol: tolerance.rtol };
}
