import type { DType } from "../../tensor/dtype.ts";
import { type HostTensor, hostZeros, unravel } from "../../tensor/host_tensor.ts";
import { reducedShape } from "./reduce_geometry.ts";

/** Reference reductions, computed in f64 over each output's values in flat reduction order. */
export type ReferenceReduce = "sum" | "mean" | "max" | "min" | "argmax" | "argmin" | "variance";

/**
 * Groups the input's values by output: `groups[o]` lists the values reduced into output `o`, in
 * row-major order of the reduced axes (the order argmax indices count in).
 */
export function groupByOutput(x: HostTensor, axes: readonly number[]): Float64Array[] {
  const reduced = new Set(axes);
  const outShape = reducedShape(x.shape, axes, false);
  const reduceShape = x.shape.filter((_, axis) => reduced.has(axis));
  const outCount = outShape.reduce((a, b) => a * b, 1);
  const reduceCount = reduceShape.reduce((a, b) => a * b, 1);
  const groups = Array.from({ length: outCount }, () => new Float64Array(reduceCount));
  for (let flat = 0; flat < x.data.length; flat++) {
    const index = unravel(flat, x.shape);
    let o = 0;
    let r = 0;
    index.forEach((i, axis) => {
      if (reduced.has(axis)) r = r * x.shape[axis] + i;
      else o = o * x.shape[axis] + i;
    });
    groups[o][r] = x.data[flat];
  }
  return groups;
}

/** One output of a reduction from its values. */
export function reduceValues(op: ReferenceReduce, values: Float64Array, correction = 1): number {
  const count = values.length;
  switch (op) {
    case "sum":
      return values.reduce((a, b) => a + b, 0);
    case "mean":
      return values.reduce((a, b) => a + b, 0) / count;
    case "max":
      return values.reduce((a, b) => Math.max(a, b), -Infinity);
    case "min":
      return values.reduce((a, b) => Math.min(a, b), Infinity);
    case "argmax":
      return firstIndexOf(values, (v, best) => v > best);
    case "argmin":
      return firstIndexOf(values, (v, best) => v < best);
    case "variance": {
      const mean = values.reduce((a, b) => a + b, 0) / count;
      const m2 = values.reduce((a, b) => a + (b - mean) ** 2, 0);
      const divisor = count - correction;
      return divisor > 0 ? m2 / divisor : NaN;
    }
  }
}

function firstIndexOf(values: Float64Array, isBetter: (v: number, best: number) => boolean): number {
  let bestIndex = 0;
  for (let i = 1; i < values.length; i++) {
    if (isBetter(values[i], values[bestIndex])) bestIndex = i;
  }
  return bestIndex;
}

/** The reference for `op` over `axes` (normalised) of `x`. */
export function referenceReduce(op: ReferenceReduce, x: HostTensor, axes: readonly number[], keepDim: boolean, correction = 1): HostTensor {
  const outDType: DType = op === "argmax" || op === "argmin" ? "i32" : x.dtype;
  const out = hostZeros(reducedShape(x.shape, axes, keepDim), outDType);
  groupByOutput(x, axes).forEach((values, o) => {
    out.data[o] = reduceValues(op, values, correction);
  });
  return out;
}
