import { isFloat } from "../../tensor/dtype.ts";
import { DTypeError, ShapeError } from "../../tensor/errors.ts";
import { type HostTensor, hostZeros } from "../../tensor/host_tensor.ts";
import { formatShape, type Shape } from "../../tensor/shape.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { exp, mul, sub } from "../elementwise/elementwise_ops.ts";
import type { OpDef, TensorSpec } from "../op_def.ts";
import { runOp } from "../run_op.ts";
import { sum } from "../reduce/reduce_ops.ts";
import { softmaxKernel } from "./softmax_kernel.ts";

/** The normalised (non-negative) axis the softmax runs along. */
export interface SoftmaxAttrs {
  axis: number;
}

function normalizeSoftmaxAxis(op: string, shape: Shape, axis: number): number {
  const rank = shape.length;
  const normalized = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(axis) || normalized < 0 || normalized >= rank) {
    const range = rank === 0 ? "a 0-d tensor has none" : `axes must lie in [${-rank}, ${rank - 1}]`;
    throw new ShapeError(op, [shape], `Cannot run ${op} over axis ${axis} of a tensor of shape ${formatShape(shape)}: ${range}`);
  }
  return normalized;
}

/** `outer × length × inner` around the axis. */
function splitAround(shape: Shape, axis: number): { outer: number; length: number; inner: number } {
  const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
  return { outer: product(shape.slice(0, axis)), length: shape[axis], inner: product(shape.slice(axis + 1)) };
}

function checkSoftmax(op: string, x: TensorSpec, attrs: SoftmaxAttrs): TensorSpec {
  if (!isFloat(x.dtype)) {
    throw new DTypeError(op, [x.dtype], `Cannot run ${op} on ${x.dtype}: it needs a float tensor`);
  }
  normalizeSoftmaxAxis(op, x.shape, attrs.axis);
  return { shape: [...x.shape], dtype: x.dtype };
}

/** Stable softmax (or log-softmax) in f64, row by row. */
function referenceSoftmax(x: HostTensor, axis: number, isLog: boolean): HostTensor {
  const { outer, length, inner } = splitAround(x.shape, axis);
  const out = hostZeros(x.shape, x.dtype);
  for (let i = 0; i < outer; i++) {
    for (let j = 0; j < inner; j++) {
      const at = (k: number) => (i * length + k) * inner + j;
      let rowMax = -Infinity;
      for (let k = 0; k < length; k++) rowMax = Math.max(rowMax, x.data[at(k)]);
      let total = 0;
      for (let k = 0; k < length; k++) total += Math.exp(x.data[at(k)] - rowMax);
      for (let k = 0; k < length; k++) {
        const shifted = x.data[at(k)] - rowMax;
        out.data[at(k)] = isLog ? shifted - Math.log(total) : Math.exp(shifted) / total;
      }
    }
  }
  return out;
}

function softmaxOp(isLog: boolean): OpDef<SoftmaxAttrs> {
  const name = isLog ? "logSoftmax" : "softmax";
  return {
    name,
    check([x], attrs) {
      return checkSoftmax(name, x, attrs);
    },
    kernel([x], attrs, _output, context) {
      const axis = normalizeSoftmaxAxis(name, x.shape, attrs.axis);
      return softmaxKernel({ isLog, dtype: x.dtype, ...splitAround(x.shape, axis) }, context);
    },
    reference([x], attrs) {
      return referenceSoftmax(x, normalizeSoftmaxAxis(name, x.shape, attrs.axis), isLog);
    },
    backward: isLog ? logSoftmaxGrad : softmaxGrad,
    saves: { inputs: false, output: true },
  };
}

/** softmax: dx = y · (dy − Σ_axis dy·y). */
function softmaxGrad({ output: y, dy, attrs }: { output: Tensor; dy: Tensor; attrs: SoftmaxAttrs }): Tensor[] {
  const product = mul(dy, y);
  const dot = sum(product, attrs.axis, { keepDim: true });
  const centered = sub(dy, dot);
  try {
    return [mul(y, centered)];
  } finally {
    [product, dot, centered].forEach((t) => t.dispose());
  }
}

/** logSoftmax: dx = dy − exp(y) · Σ_axis dy. */
function logSoftmaxGrad({ output: y, dy, attrs }: { output: Tensor; dy: Tensor; attrs: SoftmaxAttrs }): Tensor[] {
  const total = sum(dy, attrs.axis, { keepDim: true });
  const probabilities = exp(y);
  const scaled = mul(probabilities, total);
  try {
    return [sub(dy, scaled)];
  } finally {
    [total, probabilities, scaled].forEach((t) => t.dispose());
  }
}

/** The softmax primitives. */
export const softmaxOps = { softmax: softmaxOp(false), logSoftmax: softmaxOp(true) };

/**
 * Softmax along `axis` (default: the last), stable: the row maximum is subtracted before exp and
 * the sum is accumulated in f32 (f16 inputs too).
 *
 * Formula: y_i = exp(x_i − max x) / Σ_j exp(x_j − max x).
 * Gradient: dx = y · (dy − Σ_j dy_j·y_j).
 *
 * @example
 * ```ts
 * const y = softmax(tensor([[1, 2, 3], [0, 0, 0]]));
 * await y.toArray(); // Float32Array [0.090, 0.245, 0.665, 0.333, 0.333, 0.333]
 * ```
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  return runOp(softmaxOps.softmax, [x], { axis: normalizeSoftmaxAxis("softmax", x.shape, axis) });
}

/**
 * Log of the softmax along `axis` (default: the last), computed as x − max − log Σ exp(x − max)
 * so that it never takes the log of an underflowed probability.
 *
 * Formula: y_i = x_i − max x − log Σ_j exp(x_j − max x).
 * Gradient: dx = dy − exp(y) · Σ_j dy_j.
 *
 * @example
 * ```ts
 * const y = logSoftmax(tensor([1000, 0]));
 * await y.toArray(); // Float32Array [0, -1000]
 * ```
 */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return runOp(softmaxOps.logSoftmax, [x], { axis: normalizeSoftmaxAxis("logSoftmax", x.shape, axis) });
}
