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
 * no atomics and no separate fill. Each invocation writes a run of `runLength` outputs along the
 * innermost axis (see `copyRunLength`), decoding the outer coordinate once per run.
 */
export function padIntoPlan(
  dtype: DType,
  inShape: readonly number[],
  outShape: readonly number[],
  starts: readonly number[],
  steps: readonly number[],
  value: number,
  runLength = 1,
): KernelPlan {
  const inStrides = contiguousStrides(inShape);
  const collapsed = collapsePadAxes(
    outShape.map((outDim, a) => ({ outDim, start: starts[a], step: steps[a], inDim: inShape[a], inStride: inStrides[a] })),
  );
  // a 0-d (or all-whole size-1) output is one element that x fills
  const axes = collapsed.length > 0 ? collapsed : [{ outDim: 1, start: 0, step: 1, inDim: 1, inStride: 1 }];
  const rank = axes.length;
  const inner = axes[rank - 1].outDim;
  const runsPerRow = Math.ceil(inner / runLength);
  const invocations = sizeOf(outShape) === 0 ? 0 : (sizeOf(outShape) / inner) * runsPerRow;
  const params = new Params().u32("size", invocations).u32("runsPerRow", runsPerRow);
  if (dtype === "i32") params.i32("value", value);
  else if (dtype === "u32") params.u32("value", value);
  else params.f32("value", value);
  axes.forEach((axis, a) => {
    params.u32(`od${a}`, axis.outDim).u32(`st${a}`, axis.start).u32(`sp${a}`, axis.step);
    params.u32(`id${a}`, axis.inDim).u32(`is${a}`, axis.inStride);
  });
  // constant padding has unit steps: its range tests need no integer division
  const isUnitStep = axes.every((axis) => axis.step === 1);
  return {
    key: `pad_into_${dtype}_r${rank}_run${runLength}${isUnitStep ? "_unit" : ""}`,
    wgsl: () => padIntoSource(dtype, params, rank, runLength, isUnitStep),
    params: params.pack(),
    workgroups: linearGrid(invocations, WORKGROUP_SIZE),
  };
}

function padIntoSource(dtype: DType, params: Params, rank: number, run: number, isUnitStep: boolean): string {
  const quotient = (i: string, a: number | string) => (isUnitStep ? `${i} - p.st${a}` : `(${i} - p.st${a}) / p.sp${a}`);
  const onGrid = (i: string, q: string, a: number | string) => (isUnitStep ? "" : ` && ${q} * p.sp${a} == ${i} - p.st${a}`);
  const type = wgslType(dtype);
  const last = rank - 1;
  const lines: string[] = [];
  if (dtype === "f16") lines.push("enable f16;");
  lines.push(params.struct());
  lines.push(`@group(0) @binding(1) var<storage, read> x: array<${type}>;`);
  lines.push(`@group(0) @binding(2) var<storage, read_write> y: array<${type}>;`);
  lines.push(linearMain(WORKGROUP_SIZE));
  lines.push("  if (index >= p.size) { return; }");
  // 1. which run of which innermost row; the row's first output element
  lines.push("  var rest = index / p.runsPerRow;");
  lines.push(`  let first = (index % p.runsPerRow) * ${run}u;`);
  lines.push("  let row = rest;");
  lines.push("  var source = 0u;");
  lines.push("  var inside = true;");
  // 2. per outer axis, innermost first: the coordinate, its offset from x's start, and whether it
  // lands on one of x's elements (unsigned wrap-around makes i < start fail the range test)
  for (let a = last - 1; a >= 0; a--) {
    lines.push(`  let i${a} = rest % p.od${a};`);
    lines.push(`  rest = rest / p.od${a};`);
    lines.push(`  let q${a} = ${quotient(`i${a}`, a)};`);
    lines.push(`  inside = inside && i${a} >= p.st${a} && q${a} < p.id${a}${onGrid(`i${a}`, `q${a}`, a)};`);
    lines.push(`  source += q${a} * p.is${a};`);
  }
  // 3. the run along the innermost axis
  lines.push(`  let count = min(${run}u, p.od${last} - first);`);
  lines.push(`  let base = row * p.od${last};`);
  lines.push("  for (var k = 0u; k < count; k++) {");
  lines.push("    let i = first + k;");
  lines.push(`    let q = ${quotient("i", last)};`);
  lines.push(`    let hit = inside && i >= p.st${last} && q < p.id${last}${onGrid("i", "q", last)};`);
  lines.push(`    var v = ${type}(p.value);`);
  lines.push(`    if (hit) { v = x[source + q * p.is${last}]; }`);
  lines.push("    y[base + i] = v;");
  lines.push("  }");
  lines.push("}");
  return lines.join("\n");
}
