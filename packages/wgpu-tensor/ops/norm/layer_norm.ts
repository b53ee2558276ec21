import { isFloat } from "../../tensor/dtype.ts";
import { DTypeError, ShapeError } from "../../tensor/errors.ts";
import { formatShape, shapesEqual } from "../../tensor/shape.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import type { OpDef, TensorSpec } from "../op_def.ts";
import { runOp } from "../run_op.ts";
import { checkActivation, checkAffine, type NormOptions } from "./group_norm.ts";
import { normGrad, type NormForwardAttrs } from "./norm_backward.ts";
import { normForwardProgram } from "./norm_kernel.ts";
import { layerNormLayout } from "./norm_layout.ts";
import { referenceNorm } from "./norm_reference.ts";

/** Attributes of the layerNorm primitive; inputs are [x, weight?, bias?]. */
export interface LayerNormAttrs extends NormForwardAttrs {
  normalizedShape: readonly number[];
}

function checkLayerNorm(inputs: readonly TensorSpec[], attrs: LayerNormAttrs): TensorSpec {
  const [x] = inputs;
  const { normalizedShape } = attrs;
  if (!isFloat(x.dtype)) {
    throw new DTypeError("layerNorm", [x.dtype], `Cannot run layerNorm on ${x.dtype}: it needs a float tensor`);
  }
  const trailing = x.shape.slice(x.shape.length - normalizedShape.length);
  if (normalizedShape.length === 0 || normalizedShape.length > x.shape.length || !shapesEqual(trailing, normalizedShape)) {
    throw new ShapeError(
      "layerNorm",
      [x.shape, normalizedShape],
      `Cannot run layerNorm over ${formatShape(normalizedShape)} on ${formatShape(x.shape)}: the normalized shape must be the input's last dimensions`,
    );
  }
  checkActivation("layerNorm", attrs.activation);
  const expected = 1 + (attrs.hasWeight ? 1 : 0) + (attrs.hasBias ? 1 : 0);
  if (inputs.length !== expected) {
    throw new TypeError(`Cannot run layerNorm: ${expected} tensor inputs declared, ${inputs.length} given`);
  }
  if (attrs.hasWeight) checkAffine("layerNorm", x, "weight", inputs[1], normalizedShape);
  if (attrs.hasBias) checkAffine("layerNorm", x, "bias", inputs[attrs.hasWeight ? 2 : 1], normalizedShape);
  return { shape: [...x.shape], dtype: x.dtype };
}

/** The layerNorm primitive. */
export const layerNormOp: OpDef<LayerNormAttrs> = {
  name: "layerNorm",
  check: checkLayerNorm,
  kernel([x], attrs, _output, context) {
    const layout = layerNormLayout(x.shape, attrs.normalizedShape.length);
    return normForwardProgram({ name: "layerNorm", dtype: x.dtype, layout, ...attrs }, context);
  },
  reference([x, ...affine], attrs) {
    const weight = attrs.hasWeight ? affine[0] : null;
    const bias = attrs.hasBias ? affine[attrs.hasWeight ? 1 : 0] : null;
    return referenceNorm(x, layerNormLayout(x.shape, attrs.normalizedShape.length), attrs.eps, weight, bias, attrs.activation);
  },
  backward: ({ inputs, output, dy, attrs }) => layerNormGrad({ inputs, output, dy, attrs }),
  saves: { inputs: true, output: false },
};

const layerNormGrad = normGrad(layerNormOp, (shape, attrs: LayerNormAttrs) => layerNormLayout(shape, attrs.normalizedShape.length));

/**
 * Layer normalisation over the last dimensions `normalizedShape` (torch `F.layer_norm`): each
 * row is normalised by its mean and biased variance (f32, stable two-pass), then scaled by
 * `weight` and shifted by `bias` (both shaped `normalizedShape`). A number as the last argument
 * is `eps`.
 *
 * Formula: y = (x − μ)/√(σ² + eps) · w + b, μ and σ² over the normalized dimensions.
 * Gradient: with x̂ the normalised input and g = dy·w, dx = (g − mean(g) − x̂·mean(g·x̂))/√(σ² + eps);
 * dw = Σ_rows dy·x̂; db = Σ_rows dy.
 *
 * @example
 * ```ts
 * const h = layerNorm(hidden, [768], weight, bias); // hidden [batch, 77, 768]
 * ```
 */
export function layerNorm(
  x: Tensor,
  normalizedShape: number | readonly number[],
  weight?: Tensor | null,
  bias?: Tensor | null,
  options: NormOptions | number = {},
): Tensor {
  const { eps = 1e-5, activation = "none" } = typeof options === "number" ? { eps: options } : options;
  const shape = typeof normalizedShape === "number" ? [normalizedShape] : [...normalizedShape];
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return runOp(layerNormOp, inputs, { normalizedShape: shape, eps, hasWeight: !!weight, hasBias: !!bias, activation });
}
