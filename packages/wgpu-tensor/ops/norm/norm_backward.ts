import { ShapeError } from "../../tensor/errors.ts";
import { formatShape, type Shape, shapesEqual } from "../../tensor/shape.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { add, mul, sigmoid, sub } from "../elementwise/elementwise_ops.ts";
import type { GradRule, OpDef, TensorSpec } from "../op_def.ts";
import { runOp } from "../run_op.ts";
import { rowGeometry } from "../reduce/reduce_geometry.ts";
import { reducePasses } from "../reduce/reduce_kernel.ts";
import { sum } from "../reduce/reduce_ops.ts";
import { inputGradProgram, weightGradProgram } from "./norm_backward_kernel.ts";
import { type NormLayout, outerCount } from "./norm_layout.ts";
import {
  type NormActivation,
  referenceNormInputGrad,
  referenceNormStats,
  referenceNormWeightGrad,
  rowStatsFrom,
} from "./norm_reference.ts";

/** Attributes of the norm helper ops: the layout (see NormLayout), eps and whether a weight is given. */
export interface NormGradAttrs {
  layout: NormLayout;
  eps: number;
  hasWeight?: boolean;
}

function expectShape(op: string, what: string, actual: Shape, expected: Shape): void {
  if (!shapesEqual(actual, expected)) {
    throw new ShapeError(
      op,
      [actual, expected],
      `Cannot run ${op}: ${what} has shape ${formatShape(actual)}, expected ${formatShape(expected)}`,
    );
  }
}

function checkLayout(op: string, x: TensorSpec, layout: NormLayout): void {
  const size = x.shape.reduce((a, b) => a * b, 1);
  if (size !== layout.rows * layout.rowLength) {
    throw new ShapeError(
      op,
      [x.shape],
      `Cannot run ${op} on ${formatShape(x.shape)}: the layout covers ${layout.rows}×${layout.rowLength} elements`,
    );
  }
}

/** Per-row (mean, 1/√(var + eps)) as a [rows, 2] f32 tensor; the statistics pass of the norms. */
export const normStatsOp: OpDef<NormGradAttrs> = {
  name: "normStats",
  check([x], { layout }) {
    checkLayout("normStats", x, layout);
    return { shape: [layout.rows, 2], dtype: "f32" };
  },
  kernel([x], { layout, eps }, _output, context) {
    return reducePasses(
      { op: "normStats", inDType: x.dtype, outDType: "f32", geometry: rowGeometry(layout.rows, layout.rowLength), eps },
      context,
    );
  },
  reference([x], { layout, eps }) {
    return referenceNormStats(x, layout, eps);
  },
  backward: "notDifferentiable",
};

/** dx of a normalisation (without activation) from x, dy, the stats and the optional weight. */
export const normInputGradOp: OpDef<NormGradAttrs> = {
  name: "normInputGrad",
  check([x, dy, stats, weight], { layout, hasWeight }) {
    checkLayout("normInputGrad", x, layout);
    expectShape("normInputGrad", "dy", dy.shape, x.shape);
    expectShape("normInputGrad", "stats", stats.shape, [layout.rows, 2]);
    const weightSize = weight?.shape.reduce((a, b) => a * b, 1);
    if (hasWeight && weightSize !== layout.channels) {
      throw new ShapeError(
        "normInputGrad",
        [x.shape, weight?.shape ?? []],
        `Cannot run normInputGrad: the weight holds ${weightSize ?? 0} values, expected one per channel (${layout.channels})`,
      );
    }
    return { shape: [...x.shape], dtype: x.dtype };
  },
  kernel([x], { layout, hasWeight }, _output, context) {
    return inputGradProgram(layout, x.dtype, hasWeight === true, context);
  },
  reference([x, dy, stats, weight], { layout, hasWeight }) {
    return referenceNormInputGrad(x, dy, hasWeight ? weight : null, layout, rowStatsFrom(stats));
  },
  backward: "notDifferentiable",
};

/** dweight[c] = Σ dy·x̂ over channel c, from x, dy and the stats. */
export const normWeightGradOp: OpDef<NormGradAttrs> = {
  name: "normWeightGrad",
  check([x, dy, stats], { layout }) {
    checkLayout("normWeightGrad", x, layout);
    expectShape("normWeightGrad", "dy", dy.shape, x.shape);
    expectShape("normWeightGrad", "stats", stats.shape, [layout.rows, 2]);
    return { shape: [layout.channels], dtype: x.dtype };
  },
  kernel([x], { layout }, _output, context) {
    return weightGradProgram(layout, x.dtype, context);
  },
  reference([x, dy, stats], { layout }) {
    return referenceNormWeightGrad(x, dy, layout, rowStatsFrom(stats), x.dtype);
  },
  backward: "notDifferentiable",
};

/** What the forward norm ops share in their attributes. */
export interface NormForwardAttrs {
  eps: number;
  hasWeight: boolean;
  hasBias: boolean;
  activation: NormActivation;
}

/** dy·silu'(z) with silu'(z) = σ(z)·(1 + z·(1 − σ(z))). */
function siluBackward(dy: Tensor, z: Tensor): Tensor {
  const s = sigmoid(z);
  const oneMinus = sub(1, s);
  const zTimes = mul(z, oneMinus);
  const inner = add(zTimes, 1);
  const derivative = mul(s, inner);
  try {
    return mul(dy, derivative);
  } finally {
    [s, oneMinus, zTimes, inner, derivative].forEach((t) => t.dispose());
  }
}

/** `t` as a view of `shape` (same size), giving up the original handle. */
function reshaped(t: Tensor, shape: Shape): Tensor {
  if (shapesEqual(t.shape, shape)) return t;
  const view = t.view(...shape);
  t.dispose();
  return view;
}

/**
 * The gradient rule of a normalisation op whose inputs are [x, weight?, bias?]: dedicated kernels
 * for dx and dweight (no full-size intermediates beyond dx), a strided sum for dbias. A fused
 * activation is undone first by recomputing the pre-activation output (nothing full-size is
 * saved in forward).
 */
export function normGrad<A extends NormForwardAttrs>(forward: OpDef<A>, layoutOf: (shape: Shape, attrs: A) => NormLayout): GradRule<A> {
  return ({ inputs, dy, attrs }) => {
    const [x] = inputs;
    const weight = attrs.hasWeight ? inputs[1] : null;
    const layout = layoutOf(x.shape, attrs);
    const temporaries: Tensor[] = [];
    let upstream = dy;
    if (attrs.activation !== "none") {
      const preActivation = runOp(forward, inputs, { ...attrs, activation: "none" });
      upstream = siluBackward(dy, preActivation);
      temporaries.push(preActivation, upstream);
    }
    const gradAttrs: NormGradAttrs = { layout, eps: attrs.eps, hasWeight: weight !== null };
    const stats = runOp(normStatsOp, [x], gradAttrs);
    temporaries.push(stats);
    try {
      const grads: Tensor[] = [runOp(normInputGradOp, weight ? [x, upstream, stats, weight] : [x, upstream, stats], gradAttrs)];
      if (weight) grads.push(reshaped(runOp(normWeightGradOp, [x, upstream, stats], gradAttrs), weight.shape));
      if (attrs.hasBias) {
        const bias = inputs[weight ? 2 : 1];
        const channelView = upstream.view(outerCount(layout), layout.channels, layout.inner);
        temporaries.push(channelView);
        grads.push(reshaped(sum(channelView, [0, 2]), bias.shape));
      }
      return grads;
    } finally {
      temporaries.forEach((t) => t.dispose());
    }
  };
}
