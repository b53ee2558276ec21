import { ShapeError } from "../../tensor/errors.ts";
import { hostZeros, ravel, unravel } from "../../tensor/host_tensor.ts";
import { contiguousStrides, formatShape, normalizeAxis } from "../../tensor/shape.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import type { OpDef, TensorSpec } from "../op_def.ts";
import { runOp } from "../run_op.ts";
import { padInto } from "./pad_into.ts";
import { copyRunLength, stridedCopyPlan } from "./strided_copy_kernel.ts";

/** A range on one axis, Python style: negative start/end count from the end and are clamped. */
export interface SliceSpec {
  axis: number;
  /** Default 0. */
  start?: number;
  /** Exclusive; default the axis size. */
  end?: number;
  /** Positive; default 1. */
  step?: number;
}

/** Resolved per-axis ranges of a slice (every axis listed). */
export interface SliceAttrs {
  starts: readonly number[];
  steps: readonly number[];
  /** The output shape. */
  shape: readonly number[];
}

/** Resolves Python-style ranges against a shape into explicit starts, steps and sizes. */
export function resolveSlices(op: string, shape: readonly number[], specs: readonly SliceSpec[]): SliceAttrs {
  const starts = shape.map(() => 0);
  const steps = shape.map(() => 1);
  const sizes = [...shape];
  const seen = new Set<number>();
  for (const spec of specs) {
    const axis = normalizeAxis(op, spec.axis, shape.length);
    if (seen.has(axis)) throw new ShapeError(op, [shape], `Cannot ${op} ${formatShape(shape)}: axis ${spec.axis} is given twice`);
    seen.add(axis);
    const dim = shape[axis];
    const step = spec.step ?? 1;
    if (!Number.isInteger(step) || step < 1) {
      throw new ShapeError(op, [shape], `Cannot ${op} ${formatShape(shape)} on axis ${spec.axis}: step ${step} must be a positive integer`);
    }
    const clampIndex = (value: number) => Math.min(Math.max(value < 0 ? value + dim : value, 0), dim);
    for (const value of [spec.start, spec.end]) {
      if (value !== undefined && !Number.isInteger(value)) {
        throw new ShapeError(op, [shape], `Cannot ${op} ${formatShape(shape)} on axis ${spec.axis}: ${value} is not an integer`);
      }
    }
    const start = clampIndex(spec.start ?? 0);
    const end = clampIndex(spec.end ?? dim);
    starts[axis] = start;
    steps[axis] = step;
    sizes[axis] = Math.max(0, Math.ceil((end - start) / step));
  }
  return { starts, steps, shape: sizes };
}

function checkAttrs(x: TensorSpec, attrs: SliceAttrs): void {
  const rank = x.shape.length;
  const fits =
    attrs.starts.length === rank &&
    attrs.steps.length === rank &&
    attrs.shape.length === rank &&
    x.shape.every((dim, a) => attrs.shape[a] === 0 || attrs.starts[a] + (attrs.shape[a] - 1) * attrs.steps[a] < dim);
  if (!fits) {
    throw new ShapeError(
      "slice",
      [x.shape],
      `Cannot slice ${formatShape(x.shape)} to ${formatShape(attrs.shape)} from [${attrs.starts.join(", ")}] by [${attrs.steps.join(", ")}]: the range leaves the tensor`,
    );
  }
}

/**
 * y[k] = x[start + k·step] on every axis (a strided read, copied into a new tensor).
 * Gradient: dy placed back at those positions in zeros (`padInto`).
 */
export const sliceOp: OpDef<SliceAttrs> = {
  name: "slice",
  check([x], attrs) {
    checkAttrs(x, attrs);
    return { shape: [...attrs.shape], dtype: x.dtype };
  },
  kernel([x], attrs, output, context) {
    const strides = contiguousStrides(x.shape);
    return stridedCopyPlan({
      dtype: x.dtype,
      shape: output.shape,
      inStrides: strides.map((stride, a) => stride * attrs.steps[a]),
      inOffset: strides.reduce((sum, stride, a) => sum + stride * attrs.starts[a], 0),
      outStrides: contiguousStrides(output.shape),
      runLength: copyRunLength(context),
    });
  },
  reference([x], attrs) {
    const out = hostZeros(attrs.shape, x.dtype);
    for (let flat = 0; flat < out.data.length; flat++) {
      const index = unravel(flat, out.shape).map((i, a) => attrs.starts[a] + i * attrs.steps[a]);
      out.data[flat] = x.data[ravel(index, x.shape)];
    }
    return out;
  },
  backward: ({ inputs, dy, attrs }) => [padInto(dy, { shape: inputs[0].shape, starts: attrs.starts, steps: attrs.steps, value: 0 })],
  saves: { inputs: false, output: false },
};

/**
 * Slices several axes at once, Python style (`x[a:b:s, :, c:d]`), into a new tensor.
 * Gradient: dy placed back into zeros of x's shape.
 *
 * @example
 * ```ts
 * const x = arange(0, 12).view(3, 4);
 * sliceAxes(x, [{ axis: 0, start: 1 }, { axis: 1, start: 0, end: 4, step: 2 }]).shape; // [2, 2]
 * ```
 */
export function sliceAxes(x: Tensor, specs: readonly SliceSpec[]): Tensor {
  return runOp(sliceOp, [x], resolveSlices("slice", x.shape, specs));
}

/**
 * `x[..., start:end:step, ...]` on one axis, like Python slicing (negative indices count from the
 * end, out-of-range bounds are clamped). Gradient: dy padded back with zeros.
 *
 * @example
 * ```ts
 * const x = tensor([0, 1, 2, 3, 4, 5]);
 * await slice(x, { axis: 0, start: 1, end: -1, step: 2 }).toArray(); // [1, 3]
 * ```
 */
export function slice(x: Tensor, spec: SliceSpec): Tensor {
  return sliceAxes(x, [spec]);
}

/**
 * `length` elements of axis `axis` from `start`, like `torch.narrow` (the range must fit).
 * Gradient: dy padded back with zeros.
 *
 * @example
 * ```ts
 * narrow(zeros([4, 6]), 1, 2, 3).shape; // [4, 3]
 * ```
 */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  const resolvedAxis = normalizeAxis("narrow", axis, x.ndim);
  const dim = x.shape[resolvedAxis];
  const first = start < 0 ? start + dim : start;
  if (!Number.isInteger(first) || !Number.isInteger(length) || first < 0 || length < 0 || first + length > dim) {
    throw new ShapeError(
      "narrow",
      [x.shape],
      `Cannot narrow ${formatShape(x.shape)} on axis ${axis} from ${start} by ${length}: the axis has size ${dim}`,
    );
  }
  return sliceAxes(x, [{ axis: resolvedAxis, start: first, end: first + length }]);
}
