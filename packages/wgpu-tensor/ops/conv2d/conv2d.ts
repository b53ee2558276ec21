import type { HostTensor } from "../../tensor/host_tensor.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import type { OpDef, TensorSpec } from "../op_def.ts";
import { sum } from "../reduce/reduce_ops.ts";
import { runOp } from "../run_op.ts";
import { type Conv2dAttrs, conv2dAttrs, conv2dGeometry, type Conv2dOptions } from "./conv2d_geometry.ts";
import { conv2dForwardPlan, conv2dGradInputPlan, conv2dGradWeightPlan } from "./conv2d_kernel.ts";
import { referenceConv2d, referenceConv2dGradInput, referenceConv2dGradWeight } from "./conv2d_reference.ts";

export type { Conv2dOptions } from "./conv2d_geometry.ts";

/** The gradient ops need the shape of what they produce (the input's or the weight's). */
export interface Conv2dGradAttrs extends Conv2dAttrs {
  shape: readonly number[];
}

const specOf = (shape: readonly number[], dtype: TensorSpec["dtype"]): TensorSpec => ({ shape, dtype });

/** y = conv(x, w) + b: inputs x [N, Cin, H, W], w [Cout, Cin/groups, kH, kW], optional b [Cout]. */
export const conv2dOp: OpDef<Conv2dAttrs> = {
  name: "conv2d",
  check([x, weight, bias], attrs) {
    const g = conv2dGeometry("conv2d", x, weight, attrs, attrs.hasBias ? bias : undefined);
    return specOf([g.batch, g.outChannels, g.outHeight, g.outWidth], x.dtype);
  },
  kernel([x, weight], attrs, _output, context) {
    return conv2dForwardPlan(conv2dGeometry("conv2d", x, weight, attrs), x.dtype, attrs.hasBias, context);
  },
  reference([x, weight, bias], attrs) {
    return referenceConv2d(x, weight, attrs.hasBias ? bias : null, conv2dGeometry("conv2d", x, weight, attrs));
  },
  // dx = conv2dGradInput(dy, w), dw = conv2dGradWeight(dy, x), db = Σ_{n,h,w} dy
  backward({ inputs: [x, weight], dy, attrs }) {
    const grads: (Tensor | null)[] = [
      runOp(conv2dGradInputOp, [dy, weight], { ...attrs, shape: x.shape }),
      runOp(conv2dGradWeightOp, [dy, x], { ...attrs, shape: weight.shape }),
    ];
    if (attrs.hasBias) grads.push(sum(dy, [0, 2, 3]));
    return grads;
  },
};

/** ∂L/∂x of a convolution: inputs dy and w; `shape` is x's shape. */
export const conv2dGradInputOp: OpDef<Conv2dGradAttrs> = {
  name: "conv2dGradInput",
  check([dy, weight], attrs) {
    conv2dGeometry("conv2dGradInput", specOf(attrs.shape, dy.dtype), weight, attrs);
    return specOf(attrs.shape, dy.dtype);
  },
  kernel([dy, weight], attrs, _output, context) {
    return conv2dGradInputPlan(conv2dGeometry("conv2dGradInput", specOf(attrs.shape, dy.dtype), weight, attrs), dy.dtype, context);
  },
  reference([dy, weight], attrs) {
    return referenceConv2dGradInput(dy, weight, conv2dGeometry("conv2dGradInput", specOf(attrs.shape, dy.dtype), weight, attrs));
  },
  backward: "notDifferentiable",
};

/** ∂L/∂w of a convolution: inputs dy and x; `shape` is w's shape. */
export const conv2dGradWeightOp: OpDef<Conv2dGradAttrs> = {
  name: "conv2dGradWeight",
  check([dy, x], attrs) {
    conv2dGeometry("conv2dGradWeight", x, specOf(attrs.shape, dy.dtype), attrs);
    return specOf(attrs.shape, dy.dtype);
  },
  kernel([dy, x], attrs, _output, context) {
    return conv2dGradWeightPlan(conv2dGeometry("conv2dGradWeight", x, specOf(attrs.shape, dy.dtype), attrs), dy.dtype, context);
  },
  reference([dy, x], attrs) {
    return referenceConv2dGradWeight(dy, x, conv2dGeometry("conv2dGradWeight", x, specOf(attrs.shape, dy.dtype), attrs));
  },
  backward: "notDifferentiable",
};

/**
 * 2-D convolution with PyTorch's semantics (torch.nn.functional.conv2d): x [N, Cin, H, W],
 * weight [Cout, Cin/groups, kH, kW], optional bias [Cout]; stride, padding, dilation, groups.
 * Formula: y[n,o,i,j] = b[o] + Σ_{c,u,v} w[o,c,u,v]·x[n, g·Cin/groups + c, i·s − p + u·d, j·s − p + v·d].
 * Gradients: dx is the adjoint convolution of dy with w, dw the correlation of dy with x, db = Σ dy.
 *
 * @example
 * ```ts
 * const y = conv2d(x, weight, bias, { padding: 1 }); // [1, 320, 64, 64] → [1, 320, 64, 64] for a 3×3 weight
 * ```
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv2dOptions = {}): Tensor {
  const attrs = conv2dAttrs(options, !!bias);
  return runOp(conv2dOp, bias ? [x, weight, bias] : [x, weight], attrs);
}

/** For tests: host geometry of a call. */
export function referenceConv2dCall(x: HostTensor, weight: HostTensor, bias: HostTensor | null, options: Conv2dOptions): HostTensor {
  return conv2dOp.reference(bias ? [x, weight, bias] : [x, weight], conv2dAttrs(options, !!bias));
}
