import { type DType, isFloat } from "../../tensor/dtype.ts";
import { DTypeError, ShapeError } from "../../tensor/errors.ts";
import { formatShape } from "../../tensor/shape.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import type { GradRule, OpDef } from "../op_def.ts";
import { runOp } from "../run_op.ts";
import { normalizeAxes, reducedShape, reduceGeometry } from "./reduce_geometry.ts";
import { reducePasses } from "./reduce_kernel.ts";
import { type ReferenceReduce, referenceReduce } from "./reduce_reference.ts";
import { maxMinGrad, meanGrad, sumGrad, varianceGrad } from "./reduce_grad.ts";

/** Normalised axes (sorted, non-negative), whether reduced axes stay as size 1, and the variance correction. */
export interface ReduceAttrs {
  axes: readonly number[];
  keepDim: boolean;
  correction?: number;
}

/** Which axes to reduce: one axis, a list, or `undefined`/`null` for all of them. */
export type Axes = number | readonly number[] | null | undefined;

export interface ReduceOptions {
  /** Keep reduced axes as size-1 dimensions (torch `keepdim`). Default: false. */
  keepDim?: boolean;
}

export interface VarianceOptions extends ReduceOptions {
  /** Subtracted from the element count in the divisor, as in torch. Default: 1 (unbiased). */
  correction?: number;
}

interface ReduceFacet {
  isFloatOnly: boolean;
  needsElements: boolean;
  backward: GradRule<ReduceAttrs> | "notDifferentiable";
  saves: { inputs: boolean; output: boolean };
}

const facets: Record<ReferenceReduce, ReduceFacet> = {
  sum: { isFloatOnly: false, needsElements: false, backward: sumGrad, saves: { inputs: false, output: false } },
  mean: { isFloatOnly: true, needsElements: false, backward: meanGrad, saves: { inputs: false, output: false } },
  max: { isFloatOnly: false, needsElements: true, backward: maxMinGrad, saves: { inputs: true, output: true } },
  min: { isFloatOnly: false, needsElements: true, backward: maxMinGrad, saves: { inputs: true, output: true } },
  argmax: { isFloatOnly: false, needsElements: true, backward: "notDifferentiable", saves: { inputs: false, output: false } },
  argmin: { isFloatOnly: false, needsElements: true, backward: "notDifferentiable", saves: { inputs: false, output: false } },
  variance: { isFloatOnly: true, needsElements: false, backward: varianceGrad, saves: { inputs: true, output: false } },
};

function reduceOp(op: ReferenceReduce): OpDef<ReduceAttrs> {
  const facet = facets[op];
  return {
    name: op,
    check([x], attrs) {
      if (x.dtype === "u32" || (facet.isFloatOnly && !isFloat(x.dtype))) {
        const wanted = facet.isFloatOnly ? "a float tensor" : "f32, f16 or i32";
        throw new DTypeError(op, [x.dtype], `Cannot run ${op} on ${x.dtype}: it needs ${wanted}`);
      }
      const axes = normalizeAxes(op, x.shape, attrs.axes);
      const isEmpty = axes.some((axis) => x.shape[axis] === 0);
      if (facet.needsElements && isEmpty) {
        throw new ShapeError(
          op,
          [x.shape],
          `Cannot run ${op} over axes [${axes.join(", ")}] of a tensor of shape ${formatShape(x.shape)}: the reduction is empty`,
        );
      }
      const dtype: DType = op === "argmax" || op === "argmin" ? "i32" : x.dtype;
      return { shape: reducedShape(x.shape, axes, attrs.keepDim), dtype };
    },
    kernel([x], attrs, output, context) {
      const geometry = reduceGeometry(x.shape, normalizeAxes(op, x.shape, attrs.axes));
      return reducePasses({ op, inDType: x.dtype, outDType: output.dtype, geometry, correction: attrs.correction }, context);
    },
    reference([x], attrs) {
      return referenceReduce(op, x, normalizeAxes(op, x.shape, attrs.axes), attrs.keepDim, attrs.correction);
    },
    backward: facet.backward,
    saves: facet.saves,
  };
}

/** The reduction primitives, by name. */
export const reduceOps = {
  sum: reduceOp("sum"),
  mean: reduceOp("mean"),
  max: reduceOp("max"),
  min: reduceOp("min"),
  argmax: reduceOp("argmax"),
  argmin: reduceOp("argmin"),
  variance: reduceOp("variance"),
} satisfies Record<ReferenceReduce, OpDef<ReduceAttrs>>;

function run(op: ReferenceReduce, x: Tensor, axes: Axes, keepDim = false, correction?: number): Tensor {
  const normalized = normalizeAxes(op, x.shape, axes);
  const attrs: ReduceAttrs = correction === undefined ? { axes: normalized, keepDim } : { axes: normalized, keepDim, correction };
  return runOp(reduceOps[op], [x], attrs);
}

/**
 * Sum over `axes` (all axes when omitted; negative axes count from the end), in f32 with blocked
 * summation (i32 stays exact i32).
 *
 * Formula: y = Σ_{reduced axes} x. Gradient: dx = dy broadcast back over the reduced axes.
 *
 * @example
 * ```ts
 * const x = tensor([[1, 2, 3], [4, 5, 6]]);
 * await sum(x).toArray();                           // Float32Array [21]
 * await sum(x, -1).toArray();                       // Float32Array [6, 15]
 * sum(x, 0, { keepDim: true }).shape;               // [1, 3]
 * ```
 */
export function sum(x: Tensor, axes?: Axes, options: ReduceOptions = {}): Tensor {
  return run("sum", x, axes, options.keepDim);
}

/**
 * Mean over `axes` (all when omitted). Float tensors only; an empty reduction gives NaN.
 *
 * Formula: y = Σx / N with N the number of reduced elements. Gradient: dx = dy / N, broadcast.
 *
 * @example
 * ```ts
 * await mean(tensor([[1, 2], [3, 4]]), 1).toArray(); // Float32Array [1.5, 3.5]
 * ```
 */
export function mean(x: Tensor, axes?: Axes, options: ReduceOptions = {}): Tensor {
  return run("mean", x, axes, options.keepDim);
}

/**
 * Largest value over `axes` (torch `amax`: values only; use `argmax` for indices).
 *
 * Formula: y = max x. Gradient: dy flows to the positions equal to the maximum, split evenly
 * among ties (as torch `amax` does).
 *
 * @example
 * ```ts
 * await max(tensor([[1, 5], [7, 2]]), -1).toArray(); // Float32Array [5, 7]
 * ```
 */
export function max(x: Tensor, axes?: Axes, options: ReduceOptions = {}): Tensor {
  return run("max", x, axes, options.keepDim);
}

/**
 * Smallest value over `axes` (torch `amin`).
 *
 * Formula: y = min x. Gradient: like `max`, split evenly among tied minima.
 *
 * @example
 * ```ts
 * await min(tensor([[1, 5], [7, 2]]), 0).toArray(); // Float32Array [1, 2]
 * ```
 */
export function min(x: Tensor, axes?: Axes, options: ReduceOptions = {}): Tensor {
  return run("min", x, axes, options.keepDim);
}

/**
 * Variance over `axes`, computed stably (the mean first, then Σ(x − mean)², merged across chunks
 * with Chan's formula), never as E[x²] − E[x]². `correction` defaults to 1 like `torch.var`
 * (unbiased); pass 0 for the population variance. N ≤ correction gives NaN.
 *
 * Formula: y = Σ(x − x̄)² / (N − correction). Gradient: dx = 2(x − x̄)/(N − correction) · dy.
 *
 * @example
 * ```ts
 * await variance(tensor([1, 2, 3, 4])).toArray();                     // Float32Array [1.6666666]
 * await variance(tensor([1, 2, 3, 4]), 0, { correction: 0 }).toArray(); // Float32Array [1.25]
 * ```
 */
export function variance(x: Tensor, axes?: Axes, options: VarianceOptions = {}): Tensor {
  return run("variance", x, axes, options.keepDim, options.correction ?? 1);
}

/** `variance` under the short name (`var` is a reserved word in JavaScript). */
export const var_ = variance;

/**
 * Index (i32) of the largest value along `axis`, the first one among ties. Without an axis, the
 * index into the flattened tensor. Not differentiable.
 *
 * @example
 * ```ts
 * await argmax(tensor([[1, 9, 9], [4, 2, 0]]), 1).toArray(); // Int32Array [1, 0]
 * ```
 */
export function argmax(x: Tensor, axis?: number | null, options: ReduceOptions = {}): Tensor {
  return run("argmax", x, axis, options.keepDim);
}

/**
 * Index (i32) of the smallest value along `axis`, the first one among ties (see `argmax`).
 *
 * @example
 * ```ts
 * await argmin(tensor([3, 1, 1])).toArray(); // Int32Array [1]
 * ```
 */
export function argmin(x: Tensor, axis?: number | null, options: ReduceOptions = {}): Tensor {
  return run("argmin", x, axis, options.keepDim);
}
