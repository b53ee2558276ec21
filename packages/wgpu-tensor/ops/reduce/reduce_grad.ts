import type { Shape } from "../../tensor/shape.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { div, eq, mul, sub } from "../elementwise/elementwise_ops.ts";
import type { GradContext } from "../op_def.ts";
import { reducedShape } from "./reduce_geometry.ts";
import type { ReduceAttrs } from "./reduce_ops.ts";
import { mean, sum } from "./reduce_ops.ts";
import { broadcastTo } from "./sum_to_shape.ts";

// Gradient rules of the reductions. They run with gradients off (autograd's backward) and dispose
// every intermediate they make; each returns a gradient shaped exactly like the input.

/** A view of a reduced tensor with the reduced axes as size-1 dimensions, for broadcasting. */
function keptView(t: Tensor, inputShape: Shape, attrs: ReduceAttrs): Tensor {
  return t.view(...reducedShape(inputShape, attrs.axes, true));
}

function reducedCount(inputShape: Shape, attrs: ReduceAttrs): number {
  return attrs.axes.reduce((count, axis) => count * inputShape[axis], 1);
}

/** Runs `fn` and disposes `temporaries` afterwards, even if it throws. */
function using<T>(temporaries: Tensor[], fn: () => T): T {
  try {
    return fn();
  } finally {
    temporaries.forEach((t) => t.dispose());
  }
}

/** sum: dx = broadcast(dy). */
export function sumGrad({ inputs: [x], dy, attrs }: GradContext<ReduceAttrs>): Tensor[] {
  const dyKept = keptView(dy, x.shape, attrs);
  return using([dyKept], () => [broadcastTo(dyKept, x.shape)]);
}

/** mean: dx = broadcast(dy) / N. */
export function meanGrad({ inputs: [x], dy, attrs }: GradContext<ReduceAttrs>): Tensor[] {
  const dyKept = keptView(dy, x.shape, attrs);
  const scaled = mul(dyKept, 1 / reducedCount(x.shape, attrs));
  return using([dyKept, scaled], () => [broadcastTo(scaled, x.shape)]);
}

/** max/min: dy flows to every position equal to the result, split evenly among ties. */
export function maxMinGrad({ inputs: [x], output, dy, attrs }: GradContext<ReduceAttrs>): Tensor[] {
  const dyKept = keptView(dy, x.shape, attrs);
  const yKept = keptView(output, x.shape, attrs);
  const mask = eq(x, yKept);
  const ties = sum(mask, attrs.axes, { keepDim: true });
  const share = div(dyKept, ties);
  return using([dyKept, yKept, mask, ties, share], () => [mul(mask, share)]);
}

/** variance: dx = 2(x − mean)/(N − correction) · dy. */
export function varianceGrad({ inputs: [x], dy, attrs }: GradContext<ReduceAttrs>): Tensor[] {
  const divisor = reducedCount(x.shape, attrs) - (attrs.correction ?? 1);
  const dyKept = keptView(dy, x.shape, attrs);
  const average = mean(x, attrs.axes, { keepDim: true });
  const centered = sub(x, average);
  const factor = mul(dyKept, divisor > 0 ? 2 / divisor : NaN);
  return using([dyKept, average, centered, factor], () => [mul(centered, factor)]);
}
