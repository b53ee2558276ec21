import { type DType, wgslType } from "../../tensor/dtype.ts";
import { broadcastStrides, contiguousStrides, type Shape, sizeOf } from "../../tensor/shape.ts";
import { linearGrid, linearMain } from "../../wgsl/grid.ts";
import { Params } from "../../wgsl/params.ts";
import type { KernelPlan } from "../op_def.ts";
import { helpersFor } from "./math_wgsl.ts";

const WORKGROUP_SIZE = 256;

/** Where each operand of an elementwise expression comes from. */
export type OperandSource = { tensor: number; shape: Shape } | { scalar: number };

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

/** Compute type: f16 values are loaded into f32 registers so math runs at full precision. */
function computeType(dtype: DType): string {
  return dtype === "f16" ? "f32" : wgslType(dtype);
}

/**
 * Merges neighbouring output dimensions that every operand walks contiguously (or broadcasts
 * along together), so most calls index in one or two dimensions whatever their rank.
 */
export function collapseDims(outShape: Shape, strides: readonly number[][]): { shape: number[]; strides: number[][] } {
  const shape: number[] = [];
  const merged: number[][] = strides.map(() => []);
  for (let axis = 0; axis < outShape.length; axis++) {
    const dim = outShape[axis];
    if (dim === 1) continue;
    const last = shape.length - 1;
    const canMerge = last >= 0 && strides.every((s, j) => merged[j][last] === s[axis] * dim);
    if (canMerge) {
      shape[last] *= dim;
      strides.forEach((s, j) => (merged[j][last] = s[axis]));
    } else {
      shape.push(dim);
      strides.forEach((s, j) => merged[j].push(s[axis]));
    }
  }
  return { shape, strides: merged };
}

export function elementwiseKernel(spec: ElementwiseKernelSpec): KernelPlan {
  const tensorOperands = spec.operands.flatMap((o) => ("tensor" in o ? [o] : []));
  const rawStrides = tensorOperands.map((o) => broadcastStrides(o.shape, spec.outShape));
  const { shape, strides } = collapseDims(spec.outShape, rawStrides);
  const outStrides = contiguousStrides(shape);
  const isFlat = strides.map((s) => s.every((stride, axis) => stride === outStrides[axis]));
  const rank = shape.length;

  const params = new Params().u32("size", sizeOf(spec.outShape));
  shape.forEach((dim, axis) => params.u32(`d${axis}`, dim));
  strides.forEach((s, j) => {
    if (!isFlat[j]) s.forEach((stride, axis) => params.u32(`s${j}_${axis}`, stride));
  });
  const scalarType = spec.inDType === "i32" ? "i32" : spec.inDType === "u32" ? "u32" : "f32";
  spec.operands.forEach((o, k) => {
    if ("scalar" in o) params[scalarType](`c${k}`, o.scalar);
  });

  const pattern = spec.operands.map((o, k) => ("scalar" in o ? "s" : isFlat[tensorIndex(spec.operands, k)] ? "f" : "b")).join("");
  const key = `elementwise_${spec.name}_${spec.inDType}_${spec.outDType}_${pattern}_r${rank}`;
  return {
    key,
    wgsl: () => elementwiseSource(spec, params, rank, isFlat),
    params: params.pack(),
    workgroups: linearGrid(sizeOf(spec.outShape), WORKGROUP_SIZE),
  };
}

function tensorIndex(operands: readonly OperandSource[], k: number): number {
  return operands.slice(0, k).filter((o) => "tensor" in o).length;
}

function elementwiseSource(spec: ElementwiseKernelSpec, params: Params, rank: number, isFlat: boolean[]): string {
  const compute = computeType(spec.inDType);
  const storageIn = wgslType(spec.inDType);
  const storageOut = wgslType(spec.outDType);
  const tensorCount = isFlat.length;
  const lines: string[] = [];
  if (spec.inDType === "f16" || spec.outDType === "f16") lines.push("enable f16;");
  lines.push(params.struct());
  for (let j = 0; j < tensorCount; j++) {
    lines.push(`@group(0) @binding(${j + 1}) var<storage, read> x${j}: array<${storageIn}>;`);
  }
  lines.push(`@group(0) @binding(${tensorCount + 1}) var<storage, read_write> y: array<${storageOut}>;`);

  const names = spec.operands.map((_, k) => `a${k}`);
  const expression = spec.expression(names);
  lines.push(helpersFor(expression));
  lines.push(linearMain(WORKGROUP_SIZE));
  lines.push("  if (index >= p.size) { return; }");
  // 1. the output coordinate, innermost dimension first (only if some operand broadcasts)
  if (isFlat.some((flat) => !flat)) {
    lines.push("  var rest = index;");
    for (let axis = rank - 1; axis >= 0; axis--) {
      lines.push(`  let i${axis} = rest % p.d${axis};`);
      lines.push(`  rest = rest / p.d${axis};`);
    }
  }
  // 2. load every operand in the compute type
  spec.operands.forEach((o, k) => {
    if ("scalar" in o) {
      lines.push(`  let a${k} = ${compute}(p.c${k});`);
      return;
    }
    const j = o.tensor;
    const offset = isFlat[j]
      ? "index"
      : Array.from({ length: rank }, (_, axis) => `i${axis} * p.s${j}_${axis}`).join(" + ") || "0u";
    lines.push(`  let a${k} = ${compute}(x${j}[${offset}]);`);
  });
  // 3. evaluate and store
  lines.push(`  y[index] = ${storageOut}(${expression});`);
  lines.push("}");
  return lines.join("\n");
}
