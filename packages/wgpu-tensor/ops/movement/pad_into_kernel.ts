import { type DType, wgslType } from "../../tensor/dtype.ts";
import { contiguousStrides, sizeOf } from "../../tensor/shape.ts";
import { linearGrid, linearMain } from "../../wgsl/grid.ts";
import { Params } from "../../wgsl/params.ts";
import type { KernelPlan } from "../op_def.ts";

const WORKGROUP_SIZE = 256;

/** One axis of a pad-into: output size, where x starts, x's step, x's size, x's stride. */
interface PadAxis {
  outDim: number;
  start: number;
  step: number;
  inDim: number;
  inStride: number;
}

/**
 * Merges axis a+1 into axis a when a+1 is copied whole (start 0, step 1, same size) and a has
 * step 1: then "row a of x is inside" is the same test on the merged index. Size-1 output axes
 * that x fills are dropped.
 */
export function collapsePadAxes(axes: readonly PadAxis[]): PadAxis[] {
  const isWhole = (axis: PadAxis) => axis.start === 0 && axis.step === 1 && axis.inDim === axis.outDim;
  const merged: PadAxis[] = [];
  for (const axis of axes) {
    if (axis.outDim === 1 && isWhole(axis)) continue;
    const last = merged.at(-1);
    if (last && last.step === 1 && isWhole(axis) && last.inStride === axis.inStride * axis.inDim) {
      merged[merged.length - 1] = {
        outDim: last.outDim * axis.outDim,
        start: last.start * axis.outDim,
        step: 1,
        inDim: last.inDim * axis.inDim,
        inStride: axis.inStride,
      };
      continue;
    }
    merged.push({ ...axis });
  }
  return merged;
}

/**
 * y[i] = x[(i − start) / step] where that lands on an element of x on every axis, else `value`:
 * constant padding (step 1) and the gradient of a strided slice (value 0) in one gather-form pass,
 * one invocation per output element, no atomics and no separate fill.
 */
export function padIntoPlan(
  dtype: DType,
  inShape: readonly number[],
  outShape: readonly number[],
  starts: readonly number[],
  steps: readonly number[],
  value: number,
): KernelPlan {
  const inStrides = contiguousStrides(inShape);
  const axes = collapsePadAxes(outShape.map((outDim, a) => ({ outDim, start: starts[a], step: steps[a], inDim: inShape[a], inStride: inStrides[a] })));
  const params = new Params().u32("size", sizeOf(outShape));
  if (dtype === "i32") params.i32("value", value);
  else if (dtype === "u32") params.u32("value", value);
  else params.f32("value", value);
  axes.forEach((axis, a) => {
    params.u32(`od${a}`, axis.outDim).u32(`st${a}`, axis.start).u32(`sp${a}`, axis.step);
    params.u32(`id${a}`, axis.inDim).u32(`is${a}`, axis.inStride);
  });
  const rank = axes.length;
  return {
    key: `pad_into_${dtype}_r${rank}`,
    wgsl: () => padIntoSource(dtype, params, rank),
    params: params.pack(),
    workgroups: linearGrid(sizeOf(outShape), WORKGROUP_SIZE),
  };
}

function padIntoSource(dtype: DType, params: Params, rank: number): string {
  const type = wgslType(dtype);
  const lines: string[] = [];
  if (dtype === "f16") lines.push("enable f16;");
  lines.push(params.struct());
  lines.push(`@group(0) @binding(1) var<storage, read> x: array<${type}>;`);
  lines.push(`@group(0) @binding(2) var<storage, read_write> y: array<${type}>;`);
  lines.push(linearMain(WORKGROUP_SIZE));
  lines.push("  if (index >= p.size) { return; }");
  lines.push("  var rest = index;");
  lines.push("  var source = 0u;");
  lines.push("  var inside = true;");
  // per axis, innermost first: the output coordinate, its offset from x's start, and whether it
  // lands on one of x's elements (unsigned wrap-around makes i < start fail the range test)
  for (let a = rank - 1; a >= 0; a--) {
    lines.push(`  let i${a} = rest % p.od${a};`);
    lines.push(`  rest = rest / p.od${a};`);
    lines.push(`  let r${a} = i${a} - p.st${a};`);
    lines.push(`  let q${a} = r${a} / p.sp${a};`);
    lines.push(`  inside = inside && i${a} >= p.st${a} && q${a} < p.id${a} && q${a} * p.sp${a} == r${a};`);
    lines.push(`  source += q${a} * p.is${a};`);
  }
  lines.push(`  var v = ${type}(p.value);`);
  lines.push("  if (inside) { v = x[source]; }");
  lines.push("  y[index] = v;");
  lines.push("}");
  return lines.join("\n");
}
