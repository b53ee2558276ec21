// WGSL pieces the matmul kernels share: bindings, batch offsets, splitting large batches.
import type { DType } from "../../tensor/dtype.ts";
import type { Params } from "../../wgsl/params.ts";
import type { KernelPlan, KernelProgram } from "../op_def.ts";
import { MAX_BATCH_RANK, type MatmulGeometry } from "./matmul_shape.ts";

/** Most workgroups per grid dimension every WebGPU device allows. */
export const MAX_GROUPS = 65535;

/** A storage binding declaration; `vector` stores vec4s of the dtype. */
export function storageDecl(binding: number, name: string, dtype: DType, vector: boolean, isOutput = false): string {
  const element = vector ? `vec4<${dtype}>` : dtype;
  const access = isOutput ? "read_write" : "read";
  return `@group(0) @binding(${binding}) var<storage, ${access}> ${name}: array<${element}>;`;
}

/**
 * Adds the batch geometry (merged dims, per-operand matrix strides) and the pass offset, padded
 * to MAX_BATCH_RANK dimensions of size 1: one kernel serves every batch rank (a few integer ops
 * per workgroup, against seconds of compile time per extra variant on lavapipe).
 */
export function addBatchParams(params: Params, geometry: MatmulGeometry, batch0: number): Params {
  params.u32("batch0", batch0);
  const pad = MAX_BATCH_RANK - geometry.batchDims.length;
  for (let i = 0; i < MAX_BATCH_RANK; i++) {
    const dim = i < pad ? 1 : geometry.batchDims[i - pad];
    const aStride = i < pad ? 0 : geometry.aBatchStrides[i - pad];
    const bStride = i < pad ? 0 : geometry.bBatchStrides[i - pad];
    params.u32(`bd${i}`, dim).u32(`sa${i}`, aStride).u32(`sb${i}`, bStride);
  }
  return params;
}

/**
 * WGSL lines computing `offA`, `offB` (element offsets of this batch's matrices) and `offY` (of
 * its output) from the batch index `wid.z + p.batch0`.
 */
export function batchOffsetLines(rank = MAX_BATCH_RANK): string[] {
  const lines = ["  let batch = wid.z + p.batch0;", "  var rest = batch;"];
  for (let i = rank - 1; i >= 0; i--) {
    lines.push(`  let bi${i} = rest % p.bd${i};`, `  rest = rest / p.bd${i};`);
  }
  const sum = (prefix: string) => Array.from({ length: rank }, (_, i) => `bi${i} * p.${prefix}${i}`).join(" + ") || "0u";
  lines.push(`  let offA = ${sum("sa")};`, `  let offB = ${sum("sb")};`, "  let offY = batch * p.m * p.n;");
  return lines;
}

/**
 * One plan per run of at most MAX_GROUPS batch entries (the z dimension of the grid), differing
 * only in `batch0`; `plan(batch0, count)` builds one.
 */
export function splitBatch(batch: number, plan: (batch0: number, count: number) => KernelPlan): KernelPlan | KernelProgram {
  if (batch <= MAX_GROUPS) return plan(0, batch);
  const passes: KernelPlan[] = [];
  for (let batch0 = 0; batch0 < batch; batch0 += MAX_GROUPS) passes.push(plan(batch0, Math.min(MAX_GROUPS, batch - batch0)));
  return { passes };
}
