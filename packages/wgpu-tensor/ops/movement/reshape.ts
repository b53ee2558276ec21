import { recordGrad } from "../../autograd/record.ts";
import { ShapeError } from "../../tensor/errors.ts";
import { contiguousStrides, formatShape, inferReshape, normalizeAxis } from "../../tensor/shape.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import type { GradRule, OpDef } from "../op_def.ts";
import { copyRunLength, stridedCopyPlan } from "./strided_copy_kernel.ts";

/** The target shape of a reshape; one entry may be -1. */
export interface ReshapeAttrs {
  shape: readonly number[];
}

const reshapeBackward: GradRule<ReshapeAttrs> = ({ inputs, dy }) => [reshape(dy, inputs[0].shape)];

/**
 * Reshape as a primitive: y has x's elements in the same row-major order under a new shape.
 * Gradient: dy reshaped back to x's shape. `reshape()` does not run this kernel (it returns a view
 * sharing x's storage); the copy kernel is what `runOp` and the reference tests exercise.
 */
export const reshapeOp: OpDef<ReshapeAttrs> = {
  name: "reshape",
  check([x], attrs) {
    return { shape: inferReshape("reshape", x.shape, attrs.shape), dtype: x.dtype };
  },
  kernel([x], _attrs, output, context) {
    const strides = contiguousStrides(output.shape);
    return stridedCopyPlan({
      dtype: x.dtype,
      shape: output.shape,
      inStrides: strides,
      outStrides: strides,
      runLength: copyRunLength(context),
    });
  },
  reference([x], attrs) {
    return { shape: inferReshape("reshape", x.shape, attrs.shape), dtype: x.dtype, data: Float64Array.from(x.data) };
  },
  backward: reshapeBackward,
  saves: { inputs: false, output: false },
};

/**
 * y = x with a new shape (one dimension may be -1), sharing x's storage: no GPU work, no copy.
 * Gradient: dy reshaped to x's shape.
 *
 * @example
 * ```ts
 * const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
 * const y = reshape(x, [3, -1]); // shape [3, 2], same buffer
 * ```
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const resolved = inferReshape("reshape", x.shape, shape);
  x.device.assertUsable("reshape");
  const output = x.view(...resolved);
  // the node saves nothing: the rule reads only the input's shape, which outlives its storage
  recordGrad(reshapeOp.name, reshapeBackward, [x], output, { shape: resolved }, reshapeOp.saves);
  return output;
}

/**
 * Merges dimensions `startDim..endDim` (inclusive, negative counts from the end) into one, like
 * `torch.flatten`. A view; gradient: dy reshaped back.
 *
 * @example
 * ```ts
 * flatten(zeros([2, 3, 4, 5]), 1).shape; // [2, 60]
 * ```
 */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const start = normalizeAxis("flatten", startDim, x.ndim);
  const end = normalizeAxis("flatten", endDim, x.ndim);
  if (start > end) {
    throw new ShapeError(
      "flatten",
      [x.shape],
      `Cannot flatten ${formatShape(x.shape)} from dimension ${startDim} to ${endDim}: the start comes after the end`,
    );
  }
  const merged = x.shape.slice(start, end + 1).reduce((product, dim) => product * dim, 1);
  return reshape(x, [...x.shape.slice(0, start), merged, ...x.shape.slice(end + 1)]);
}

/**
 * Removes size-1 dimensions: all of them, or only `dim` (left alone when its size is not 1, as in
 * PyTorch). A view; gradient: dy reshaped back.
 *
 * @example
 * ```ts
 * squeeze(zeros([1, 3, 1, 2])).shape;    // [3, 2]
 * squeeze(zeros([1, 3, 1, 2]), 2).shape; // [1, 3, 2]
 * ```
 */
export function squeeze(x: Tensor, dim?: number): Tensor {
  if (dim === undefined)
    return reshape(
      x,
      x.shape.filter((size) => size !== 1),
    );
  const axis = normalizeAxis("squeeze", dim, x.ndim);
  if (x.ndim === 0 || x.shape[axis] !== 1) return reshape(x, x.shape);
  return reshape(
    x,
    x.shape.filter((_, i) => i !== axis),
  );
}

/**
 * Inserts a size-1 dimension at `dim` (in `-(rank+1)..rank`), like `torch.unsqueeze`. A view;
 * gradient: dy reshaped back.
 *
 * @example
 * ```ts
 * unsqueeze(zeros([3, 4]), 0).shape;  // [1, 3, 4]
 * unsqueeze(zeros([3, 4]), -1).shape; // [3, 4, 1]
 * ```
 */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  const axis = normalizeAxis("unsqueeze", dim, x.ndim + 1);
  return reshape(x, [...x.shape.slice(0, axis), 1, ...x.shape.slice(axis)]);
}
