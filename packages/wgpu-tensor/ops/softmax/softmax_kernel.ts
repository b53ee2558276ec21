import type { DType } from "../../tensor/dtype.ts";
import { linearGrid, linearMain } from "../../wgsl/grid.ts";
import { Params } from "../../wgsl/params.ts";
import type { KernelContext, KernelPlan } from "../op_def.ts";
import { walkRange } from "../reduce/reduce_walk.ts";

/** A softmax over one axis, seen as `outer × length × inner` with rows strided by `inner`. */
export interface SoftmaxKernelSpec {
  isLog: boolean;
  dtype: DType;
  outer: number;
  length: number;
  inner: number;
}

/**
 * One invocation per row, three serial walks over it: the maximum, the blocked sum of
 * exp(x − max), then the outputs. Rows along a middle axis make neighbouring invocations read
 * neighbouring addresses; along the last axis each invocation streams its own contiguous row.
 */
export function softmaxKernel(spec: SoftmaxKernelSpec, context: KernelContext): KernelPlan {
  const workgroupSize = context.isCpuAdapter ? 32 : 64;
  const rows = spec.outer * spec.inner;
  const params = new Params()
    .u32("rows", rows)
    .u32("inner", spec.inner)
    .u32("rn0", spec.length)
    .u32("rs0", spec.inner)
    .f32("init", -Infinity);
  const name = spec.isLog ? "logSoftmax" : "softmax";
  return {
    key: `${name}_${spec.dtype}_wg${workgroupSize}`,
    wgsl: () => softmaxSource(spec, params, workgroupSize),
    params: params.pack(),
    workgroups: linearGrid(rows, workgroupSize),
  };
}

function softmaxSource(spec: SoftmaxKernelSpec, params: Params, workgroupSize: number): string {
  const { dtype } = spec;
  const load = (q: string) => (dtype === "f32" ? `x[${q}]` : `f32(x[${q}])`);
  const lines: string[] = [];
  if (dtype === "f16") lines.push("enable f16;");
  lines.push(params.struct());
  lines.push(`@group(0) @binding(1) var<storage, read> x: array<${dtype}>;`);
  lines.push(`@group(0) @binding(2) var<storage, read_write> y: array<${dtype}>;`);
  lines.push(linearMain(workgroupSize));
  lines.push("  if (index >= p.rows) { return; }");
  // 1. the row: outer index times the row block, plus the inner offset
  lines.push("  let base = (index / p.inner) * p.rn0 * p.inner + index % p.inner;");
  lines.push("  let start = 0u;");
  lines.push("  let end = p.rn0;");
  // 2. the maximum, subtracted before exp so that nothing overflows
  lines.push("  var rowMax = p.init;");
  const combine = (a: string, b: string) => `max(${a}, ${b})`;
  lines.push(...walkRange(1, { fold: { acc: "rowMax", combine, value: load } }));
  // 3. Σ exp(x − max), blocked
  lines.push("  var total = 0.0;");
  lines.push(...walkRange(1, { blocked: { total: "total", type: "f32", add: (q) => `exp(${load(q)} - rowMax)` } }));
  // 4. the outputs
  if (spec.isLog) {
    // (x − max) − log Σ: subtracting the max first keeps the digits that matter when |x| is large
    lines.push("  let logTotal = log(total);");
    lines.push(...walkRange(1, { each: (q) => [`y[${q}] = ${dtype}((${load(q)} - rowMax) - logTotal);`] }));
  } else {
    lines.push("  let scale = 1.0 / total;");
    lines.push(...walkRange(1, { each: (q) => [`y[${q}] = ${dtype}(exp(${load(q)} - rowMax) * scale);`] }));
  }
  lines.push("}");
  return lines.join("\n");
}
