import { ShapeError } from "../../tensor/errors.ts";
import { hostZeros, ravel, unravel } from "../../tensor/host_tensor.ts";
import { checkShape, formatShape } from "../../tensor/shape.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import type { OpDef, TensorSpec } from "../op_def.ts";
import { runOp } from "../run_op.ts";
import { padIntoPlan } from "./pad_into_kernel.ts";
import { copyRunLength } from "./strided_copy_kernel.ts";
import { sliceAxes } from "./slice.ts";

/** Where x goes in the output: on axis a at starts[a], starts[a] + steps[a], … */
export interface PadIntoAttrs {
  shape: readonly number[];
  starts: readonly number[];
  /** Default: all 1. */
  steps?: readonly number[];
  /** What the other elements hold. Default: 0. */
  value?: number;
}

function resolve(x: TensorSpec, attrs: PadIntoAttrs): { starts: number[]; steps: number[]; value: number } {
  const rank = x.shape.length;
  const describe = () => `Cannot pad ${formatShape(x.shape)} into ${formatShape(attrs.shape)} at [${attrs.starts.join(", ")}]`;
  checkShape("padInto", attrs.shape);
  const steps = [...(attrs.steps ?? x.shape.map(() => 1))];
  if (attrs.shape.length !== rank || attrs.starts.length !== rank || steps.length !== rank) {
    throw new ShapeError("padInto", [x.shape, attrs.shape], `${describe()}: the shape, starts and steps need ${rank} entries each`);
  }
  x.shape.forEach((dim, a) => {
    const start = attrs.starts[a];
    const step = steps[a];
    if (!Number.isInteger(start) || start < 0 || !Number.isInteger(step) || step < 1) {
      throw new ShapeError("padInto", [x.shape, attrs.shape], `${describe()}: starts must be integers >= 0 and steps integers >= 1`);
    }
    if (dim > 0 && start + (dim - 1) * step >= attrs.shape[a]) {
      throw new ShapeError(
        "padInto",
        [x.shape, attrs.shape],
        `${describe()}: on axis ${a} the last element would land at ${start + (dim - 1) * step}, past size ${attrs.shape[a]}`,
      );
    }
  });
  return { starts: [...attrs.starts], steps, value: attrs.value ?? 0 };
}

/**
 * Places x into a tensor of `shape` filled with `value`: y[start + k·step] = x[k] on every axis.
 * Constant padding is steps 1; the gradient of a strided slice is value 0. Gradient: the matching
 * strided slice of dy.
 */
export const padIntoOp: OpDef<PadIntoAttrs> = {
  name: "padInto",
  check([x], attrs) {
    resolve(x, attrs);
    return { shape: [...attrs.shape], dtype: x.dtype };
  },
  kernel([x], attrs, output, context) {
    const { starts, steps, value } = resolve(x, attrs);
    return padIntoPlan(x.dtype, x.shape, output.shape, starts, steps, value, copyRunLength(context));
  },
  reference([x], attrs) {
    const { starts, steps, value } = resolve(x, attrs);
    const out = hostZeros(attrs.shape, x.dtype);
    out.data.fill(value);
    for (let flat = 0; flat < x.data.length; flat++) {
      const index = unravel(flat, x.shape).map((i, a) => starts[a] + i * steps[a]);
      out.data[ravel(index, out.shape)] = x.data[flat];
    }
    return out;
  },
  backward: ({ inputs, dy, attrs }) => {
    const { starts, steps } = resolve(inputs[0], attrs);
    const axes = inputs[0].shape.map((dim, axis) => {
      const end = dim === 0 ? starts[axis] : starts[axis] + (dim - 1) * steps[axis] + 1;
      return { axis, start: starts[axis], end, step: steps[axis] };
    });
    return [sliceAxes(dy, axes)];
  },
  saves: { inputs: false, output: false },
};

/**
 * Places x into a new tensor of `shape` filled with `value` (default 0), at `starts` with
 * `steps` (default 1) per axis. The gradient of `slice`, and the core of `pad`.
 * Gradient: the strided slice of dy where x went.
 *
 * @example
 * ```ts
 * const x = tensor([1, 2], [2]);
 * await padInto(x, { shape: [5], starts: [1], steps: [2] }).toArray(); // [0, 1, 0, 2, 0]
 * ```
 */
export function padInto(x: Tensor, attrs: PadIntoAttrs): Tensor {
  return runOp(padIntoOp, [x], attrs);
}
