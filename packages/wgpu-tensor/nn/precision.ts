/**
 * Mixed precision, in one place. A model loaded with `dtype: "f16"` keeps its weights and the
 * activations between its layers in f16 (half the bytes); every kernel still computes in f32
 * registers and rounds once on store. Some quantities stay f32 end to end because f16 (11-bit
 * significand, largest value 65504, smallest normal 6.1e-5) breaks them; `PRECISION_RULES` names
 * each with the reason, and the code that implements a rule cites it by key.
 * @module
 */
import type { Device } from "../device/device.ts";
import { cast } from "../ops/cast/cast.ts";
import type { DType } from "../tensor/dtype.ts";
import type { Tensor } from "../tensor/tensor.ts";

/** The storage dtype a model's weights and activations can have. */
export type ModelDType = "f32" | "f16";

/** Where a quantity lives: in the model's dtype ("model") or always in f32 ("f32"). */
export type PrecisionRule = { readonly dtype: "model" | "f32"; readonly why: string };

/**
 * The rules. "accumulate" means the kernel sums in f32 registers whatever the storage dtype
 * (matmul, conv, attention, reductions and norms all do: see their WGSL), so a K-term dot product
 * in f16 storage carries one f16 rounding of each input and one of the result, not K of them.
 */
export const PRECISION_RULES = {
  weights: { dtype: "model", why: "the bulk of the bytes; rounding a weight to f16 is a relative change ≤ 2⁻¹¹" },
  activations: {
    dtype: "model",
    why: "stored between layers; each layer rounds its output once (matmul, conv and attention accumulate in f32)",
  },
  normStatistics: {
    dtype: "f32",
    why: "GroupNorm/LayerNorm mean and variance: Σx² over thousands of values overflows or cancels in f16 (computed in f32 registers by the norm kernels)",
  },
  softmax: {
    dtype: "f32",
    why: "exp of logits up to ~±20 and the row sum over 4096 keys exceed f16's range (the softmax and attention kernels compute in f32)",
  },
  timestepEmbedding: {
    dtype: "f32",
    why: "sin/cos of t·f with t up to 1000 need f32 arguments; the projection is computed in f32 on the host and cast once to the model dtype",
  },
  scheduler: {
    dtype: "f32",
    why: "latents, ᾱ tables and the DDIM update mix terms of very different size (√(1−ᾱ) ≈ 0.003 at the last step); the model returns its prediction in the caller's dtype (f32)",
  },
  spoLogProbability: { dtype: "f32", why: "(x − μ)²/σ² with σ ≈ 0.04 at the last step loses all precision in f16" },
  loraParameters: {
    dtype: "f32",
    why: "updates of lr·grad ≈ 1e-5 relative vanish when added to an f16 weight; the LoRA branch casts x to f32 and its output back to the layer's dtype",
  },
  loraGradients: {
    dtype: "f32",
    why: "gradients of f32 parameters are f32; loss scaling (GradScaler) keeps the f16 activations' gradients above f16's subnormals",
  },
  optimizerState: { dtype: "f32", why: "AdamW's second moment squares gradients (1e-10 and below): f16 flushes it to zero" },
  loss: { dtype: "f32", why: "a mean over many elements; it is also what GradScaler multiplies" },
} as const satisfies Record<string, PrecisionRule>;

export type PrecisionRuleName = keyof typeof PRECISION_RULES;

/** The dtype a rule gives for a model of `modelDType`. */
export function dtypeFor(rule: PrecisionRuleName, modelDType: ModelDType): ModelDType {
  return PRECISION_RULES[rule].dtype === "f32" ? "f32" : modelDType;
}

const noticed = new WeakSet<Device>();

/** Where the one-line notice goes (console.warn unless replaced, e.g. by a test or a UI). */
export type PrecisionNotice = (line: string) => void;

/**
 * The dtype a model is actually built with: `requested` (default f32), except f16 on a device without
 * `shader-f16`, which falls back to f32 with one line to `notice` (once per device).
 *
 * @example
 * ```ts
 * const dtype = resolveModelDType("f16", device, "a UNet"); // "f32" on an adapter without shader-f16
 * const unet = UNet2DConditionModel.fromConfig(config, { init: "meta", device, dtype });
 * ```
 */
export function resolveModelDType(
  requested: ModelDType | undefined,
  device: Device,
  what: string,
  notice: PrecisionNotice = (line) => console.warn(line),
): ModelDType {
  if (requested === undefined || requested === "f32") return "f32";
  if (requested !== "f16") throw new RangeError(`Cannot load ${what} in ${String(requested)}: the dtype must be "f32" or "f16"`);
  if (device.hasF16) return "f16";
  if (!noticed.has(device)) {
    noticed.add(device);
    notice(`Note: this WebGPU adapter has no shader-f16, so ${what} (and every later model) runs in f32 (twice the memory of f16).`);
  }
  return "f32";
}

/** `x` itself when it already has `dtype`, else a cast copy (differentiable). */
export function toDType(x: Tensor, dtype: DType): Tensor {
  return x.dtype === dtype ? x : cast(x, dtype);
}
