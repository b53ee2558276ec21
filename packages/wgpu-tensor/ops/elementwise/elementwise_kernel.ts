import type { DType } from "../../tensor/dtype.ts";
import type { Shape } from "../../tensor/shape.ts";
import { linearGrid } from "../../wgsl/grid.ts";
import { Params } from "../../wgsl/params.ts";
import type { KernelContext, KernelPlan } from "../op_def.ts";
import { type OperandAccess, type RunLayout, runLayout } from "./elementwise_layout.ts";
import { elementwiseSource, type OperandSource } from "./elementwise_wgsl.ts";

export type { OperandSource } from "./elementwise_wgsl.ts";

const WORKGROUP_SIZE = 64;
/** Operand letters in kernel keys; a number operand is `n`. */
const ACCESS_LETTER: Record<OperandAccess, string> = { flat: "f", row: "r", splat: "b" };

/**
 * Units per invocation. On CPU adapters every lane loads its own addresses one by one, so the win
 * is in amortising the per-invocation work (index math, bounds checks, the lavapipe task per
 * workgroup): 4 vec4s per invocation ran a + b on 2×320×64×64 in 12.0 ms against 14.7 ms for
 * one vec4 (tfjs's layout) and 35–55 ms for one scalar (benchmarks/probes/elementwise_runs_node.ts).
 * GPUs want one vec4 per invocation, so neighbouring lanes touch neighbouring addresses.
 */
function runOptions(context: Pick<KernelContext, "isCpuAdapter">): { unitsPerRun: number; scalarsPerRun: number } {
  return context.isCpuAdapter ? { unitsPerRun: 4, scalarsPerRun: 8 } : { unitsPerRun: 1, scalarsPerRun: 1 };
}

export interface ElementwiseKernelSpec {
  /** Op name, for the kernel key. */
  name: string;
  /** WGSL expression over operand names (`a0`, `a1`, …) in the compute type. */
  expression: (operands: string[]) => string;
  operands: readonly OperandSource[];
  outShape: Shape;
  /** dtype of the tensor operands and of the output storage. */
  inDType: DType;
  outDType: DType;
}

/**
 * One elementwise dispatch over broadcast operands: vec4 loads and stores wherever rows (the
 * innermost collapsed dimension) are a multiple of 4 long, scalars otherwise, several units per
 * invocation on CPU adapters. Shapes and strides travel in uniforms; the key names only the
 * access pattern, the collapsed rank and the unit width.
 */
export function elementwiseKernel(spec: ElementwiseKernelSpec, context: Pick<KernelContext, "isCpuAdapter">): KernelPlan {
  const tensorShapes = spec.operands.flatMap((o) => ("tensor" in o ? [o.shape] : []));
  const layout = runLayout(spec.outShape, tensorShapes, runOptions(context));
  const params = layoutParams(layout, spec);
  const pattern = spec.operands.map((o) => ("scalar" in o ? "n" : ACCESS_LETTER[layout.operands[o.tensor].access])).join("");
  const rank = layout.outerShape.length + 1;
  const key = `elementwise_${spec.name}_${spec.inDType}_${spec.outDType}_${pattern}_r${rank}_w${layout.width}x${layout.unitsPerRun}`;
  const runsPerRow = Math.ceil(layout.rowLength / layout.width / layout.unitsPerRun);
  const source = { ...spec, workgroupSize: WORKGROUP_SIZE };
  return {
    key,
    wgsl: () => elementwiseSource(source, layout, params),
    params: params.pack(),
    workgroups: linearGrid(layout.rows * runsPerRow, WORKGROUP_SIZE),
  };
}

/** The uniforms: run counts, outer dimensions, each non-flat operand's outer strides, numbers. */
function layoutParams(layout: RunLayout, spec: ElementwiseKernelSpec): Params {
  const rowUnits = layout.rowLength / layout.width;
  const runsPerRow = Math.ceil(rowUnits / layout.unitsPerRun);
  const params = new Params()
    .u32("runs", layout.rows * runsPerRow)
    .u32("runsPerRow", runsPerRow)
    .u32("rowUnits", rowUnits);
  layout.outerShape.forEach((dim, axis) => params.u32(`d${axis}`, dim));
  layout.operands.forEach(({ access, outerStrides }, j) => {
    if (access === "flat") return;
    // row operands are indexed in units (their outer strides are multiples of the row length)
    const scale = access === "row" ? layout.width : 1;
    outerStrides.forEach((stride, axis) => params.u32(`s${j}_${axis}`, stride / scale));
  });
  const scalarType = spec.inDType === "i32" ? "i32" : spec.inDType === "u32" ? "u32" : "f32";
  spec.operands.forEach((o, k) => {
    if ("scalar" in o) params[scalarType](`c${k}`, o.scalar);
  });
  return params;
}
