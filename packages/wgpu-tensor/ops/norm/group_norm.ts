import { isFloat } from "../../tensor/dtype.ts";
import { DTypeError, ShapeError } from "../../tensor/errors.ts";
import { formatShape, shapesEqual } from "../../tensor/shape.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import type { OpDef, TensorSpec } from "../op_def.ts";
import { runOp } from "../run_op.ts";
import { normGrad, type NormForwardAttrs } from "./norm_backward.ts";
import { normForwardProgram } from "./norm_kernel.ts";
import { groupNormLayout } from "./norm_layout.ts";
import { type NormActivation, referenceNorm } from "./norm_reference.ts";

/** Attributes of the groupNorm primitive; inputs are [x, weight?, bias?]. */
export interface GroupNormAttrs extends NormForwardAttrs {
  numGroups: number;
}

export interface NormOptions {
  /** Added to the variance before the square root. Default: 1e-5. */
  eps?: number;
  /**
   * Activation applied in the same pass (GroupNorm → SiLU in diffusion ResNet blocks). Its
   * gradient recomputes the normalised values rather than saving them. Default: "none".
   */
  activation?: NormActivation;
}

/** Validates affine parameters: shape `expected`, same dtype as x. */
export function checkAffine(op: string, x: TensorSpec, what: string, param: TensorSpec, expected: readonly number[]): void {
  if (!shapesEqual(param.shape, expected)) {
    throw new ShapeError(
      op,
      [x.shape, param.shape],
      `Cannot run ${op} on ${formatShape(x.shape)}: ${what} has shape ${formatShape(param.shape)}, expected ${formatShape(expected)}`,
    );
  }
  if (param.dtype !== x.dtype) {
    throw new DTypeError(
      op,
      [x.dtype, param.dtype],
      `Cannot run ${op} on ${x.dtype} with a ${param.dtype} ${what}: they must match (cast first)`,
    );
  }
}

/** Only the activations the kernels know. */
export function checkActivation(op: string, activation: string): void {
  if (activation !== "none" && activation !== "silu") {
    throw new TypeError(`Cannot run ${op} with activation "${activation}": it supports "none" and "silu"`);
  }
}

function checkGroupNorm(inputs: readonly TensorSpec[], attrs: GroupNormAttrs): TensorSpec {
  const [x] = inputs;
  const { numGroups } = attrs;
  if (!isFloat(x.dtype)) {
    throw new DTypeError("groupNorm", [x.dtype], `Cannot run groupNorm on ${x.dtype}: it needs a float tensor`);
  }
  if (x.shape.length < 2) {
    throw new ShapeError("groupNorm", [x.shape], `Cannot run groupNorm on ${formatShape(x.shape)}: it needs a tensor [N, C, *]`);
  }
  const channels = x.shape[1];
  if (!Number.isInteger(numGroups) || numGroups < 1 || channels % numGroups !== 0) {
    throw new ShapeError(
      "groupNorm",
      [x.shape],
      `Cannot run groupNorm with ${numGroups} groups on ${formatShape(x.shape)}: ${channels} channels are not divisible into ${numGroups} groups`,
    );
  }
  checkActivation("groupNorm", attrs.activation);
  const expected = 1 + (attrs.hasWeight ? 1 : 0) + (attrs.hasBias ? 1 : 0);
  if (inputs.length !== expected) {
    throw new TypeError(`Cannot run groupNorm: ${expected} tensor inputs declared, ${inputs.length} given`);
  }
  if (attrs.hasWeight) checkAffine("groupNorm", x, "weight", inputs[1], [channels]);
  if (attrs.hasBias) checkAffine("groupNorm", x, "bias", inputs[attrs.hasWeight ? 2 : 1], [channels]);
  return { shape: [...x.shape], dtype: x.dtype };
}

/** The groupNorm primitive. */
export const groupNormOp: OpDef<GroupNormAttrs> = {
  name: "groupNorm",
  check: checkGroupNorm,
  kernel([x], attrs, _output, context) {
    const layout = groupNormLayout(x.shape, attrs.numGroups);
    return normForwardProgram({ name: "groupNorm", dtype: x.dtype, layout, ...attrs }, context);
  },
  reference([x, ...affine], attrs) {
    const weight = attrs.hasWeight ? affine[0] : null;
    const bias = attrs.hasBias ? affine[attrs.hasWeight ? 1 : 0] : null;
    return referenceNorm(x, groupNormLayout(x.shape, attrs.numGroups), attrs.eps, weight, bias, attrs.activation);
  },
  backward: ({ inputs, output, dy, attrs }) => groupNormGrad({ inputs, output, dy, attrs }),
  saves: { inputs: true, output: false },
};

const groupNormGrad = normGrad(groupNormOp, (shape, attrs: GroupNormAttrs) => groupNormLayout(shape, attrs.numGroups));

/**
 * Group normalisation of `x` [N, C, *] (torch `F.group_norm`): the channels are split into
 * `numGroups` groups and each (sample, group) is normalised by its own mean and biased variance,
 * computed in f32 with a stable two-pass formula; then the per-channel affine `weight`·x̂ + `bias`
 * and, optionally, a fused SiLU. A number as the last argument is `eps`.
 *
 * Formula: y = (x − μ)/√(σ² + eps) · w[c] + b[c], μ and σ² over each group's C/G channels × spatial.
 * Gradient: with x̂ the normalised input and g = dy·w, dx = (g − mean(g) − x̂·mean(g·x̂))/√(σ² + eps)
 * over the group; dw[c] = Σ dy·x̂; db[c] = Σ dy.
 *
 * @example
 * ```ts
 * const x = randn([2, 32, 8, 8]);
 * const y = groupNorm(x, 8, weight, bias, { activation: "silu" }); // [2, 32, 8, 8]
 * ```
 */
export function groupNorm(
  x: Tensor,
  numGroups: number,
  weight?: Tensor | null,
  bias?: Tensor | null,
  options: NormOptions | number = {},
): Tensor {
  const { eps = 1e-5, activation = "none" } = typeof options === "number" ? { eps: options } : options;
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return runOp(groupNormOp, inputs, { numGroups, eps, hasWeight: !!weight, hasBias: !!bias, activation });
}
