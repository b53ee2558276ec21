import { type DType, wgslType } from "../../tensor/dtype.ts";
import { contiguousStrides, type Shape, sizeOf } from "../../tensor/shape.ts";
import { linearGrid, linearMain } from "../../wgsl/grid.ts";
import { Params } from "../../wgsl/params.ts";
import { collapseDims } from "../elementwise/elementwise_kernel.ts";
import type { BindingRef, KernelPlan } from "../op_def.ts";

const WORKGROUP_SIZE = 256;

/** One strided copy: walk `shape`, read `x[inOffset + Σ iₐ·inStridesₐ]`, write `y[outOffset + Σ iₐ·outStridesₐ]`. */
export interface StridedCopySpec {
  dtype: DType;
  /** The iteration shape (one invocation per element). */
  shape: Shape;
  inStrides: readonly number[];
  inOffset?: number;
  outStrides: readonly number[];
  outOffset?: number;
  /** Which buffers to bind as source and target; default the first input and the output. */
  source?: BindingRef;
  target?: BindingRef;
}

/**
 * The one copy kernel behind permute, slice and concat: any strided read into any strided write,
 * element by element. Dimensions that both sides walk contiguously are merged first (so a slice of
 * whole rows is a 1-D copy), and a side whose strides are the row-major strides of the collapsed
 * shape indexes by the invocation number directly.
 */
export function stridedCopyPlan(spec: StridedCopySpec): KernelPlan {
  const { shape, strides } = collapseDims(spec.shape, [[...spec.inStrides], [...spec.outStrides]]);
  const [inStrides, outStrides] = strides;
  const flat = contiguousStrides(shape);
  const isInFlat = inStrides.every((s, axis) => s === flat[axis]);
  const isOutFlat = outStrides.every((s, axis) => s === flat[axis]);
  const rank = shape.length;

  const params = new Params()
    .u32("size", sizeOf(spec.shape))
    .u32("inOffset", spec.inOffset ?? 0)
    .u32("outOffset", spec.outOffset ?? 0);
  shape.forEach((dim, axis) => params.u32(`d${axis}`, dim));
  if (!isInFlat) inStrides.forEach((s, axis) => params.u32(`si${axis}`, s));
  if (!isOutFlat) outStrides.forEach((s, axis) => params.u32(`so${axis}`, s));

  const key = `strided_copy_${spec.dtype}_r${rank}_${isInFlat ? "f" : "s"}${isOutFlat ? "f" : "s"}`;
  return {
    key,
    wgsl: () => stridedCopySource(spec.dtype, params, rank, isInFlat, isOutFlat),
    params: params.pack(),
    workgroups: linearGrid(sizeOf(spec.shape), WORKGROUP_SIZE),
    bindings: [spec.source ?? { input: 0 }, spec.target ?? "output"],
  };
}

function stridedCopySource(dtype: DType, params: Params, rank: number, isInFlat: boolean, isOutFlat: boolean): string {
  const type = wgslType(dtype);
  const lines: string[] = [];
  if (dtype === "f16") lines.push("enable f16;");
  lines.push(params.struct());
  lines.push(`@group(0) @binding(1) var<storage, read> x: array<${type}>;`);
  lines.push(`@group(0) @binding(2) var<storage, read_write> y: array<${type}>;`);
  lines.push(linearMain(WORKGROUP_SIZE));
  lines.push("  if (index >= p.size) { return; }");
  // 1. the coordinate in the (collapsed) iteration shape, innermost first
  if (!isInFlat || !isOutFlat) {
    lines.push("  var rest = index;");
    for (let axis = rank - 1; axis >= 0; axis--) {
      lines.push(`  let i${axis} = rest % p.d${axis};`);
      lines.push(`  rest = rest / p.d${axis};`);
    }
  }
  // 2. source and target offsets
  const sum = (prefix: string) => Array.from({ length: rank }, (_, axis) => `i${axis} * p.${prefix}${axis}`).join(" + ") || "0u";
  lines.push(`  let src = p.inOffset + ${isInFlat ? "index" : sum("si")};`);
  lines.push(`  let dst = p.outOffset + ${isOutFlat ? "index" : sum("so")};`);
  // 3. copy
  lines.push("  y[dst] = x[src];");
  lines.push("}");
  return lines.join("\n");
}
