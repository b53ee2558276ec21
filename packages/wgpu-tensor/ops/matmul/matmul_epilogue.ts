import { geluErf, sigmoid } from "../elementwise/math_js.ts";
import { WGSL_HELPERS } from "../elementwise/math_wgsl.ts";
import { gelu, relu, silu } from "../elementwise/elementwise_ops.ts";
import type { Tensor } from "../../tensor/tensor.ts";

/** Activations a fused matmul/conv epilogue can apply (torch: `F.relu`, `F.silu`, `F.gelu`). */
export type Activation = "none" | "relu" | "silu" | "gelu";

/** Every activation, for tests and option validation. */
export const ACTIVATIONS: readonly Activation[] = ["none", "relu", "silu", "gelu"];

/**
 * What a fused epilogue does after the K-sum: `y = act(alpha·acc + bias) + residual`, in this
 * order (scale, bias, activation, residual). Shared by matmul and conv2d.
 */
export interface Epilogue {
  alpha: number;
  activation: Activation;
  hasBias: boolean;
  hasResidual: boolean;
}

/** The same math as the WGSL epilogue, in f64: for the references. */
export function activate(activation: Activation, x: number): number {
  switch (activation) {
    case "none":
      return x;
    case "relu":
      return Math.max(x, 0);
    case "silu":
      return x * sigmoid(x);
    case "gelu":
      return geluErf(x);
  }
}

/** WGSL helper functions the activation needs (declared once per shader). */
export function activationHelpers(activation: Activation): string {
  if (activation === "silu") return WGSL_HELPERS.sigmoid_;
  if (activation === "gelu") return WGSL_HELPERS.erf_;
  return "";
}

/** A WGSL expression applying the activation to an f32 expression `x` (a plain name). */
export function activationWgsl(activation: Activation, x: string): string {
  switch (activation) {
    case "none":
      return x;
    case "relu":
      return `max(${x}, 0.0)`;
    case "silu":
      return `(${x} * sigmoid_(${x}))`;
    case "gelu":
      return `(0.5 * ${x} * (1.0 + erf_(${x} * 0.70710678118654752)))`;
  }
}

/** WGSL `act4(v)`: the activation on each component of a vec4 (defined only if there is one). */
export function activationVec4Helper(activation: Activation): string {
  if (activation === "none") return "";
  const parts = ["x", "y", "z", "w"].map((c) => activationWgsl(activation, `v.${c}`));
  return `fn act4(v: vec4<f32>) -> vec4<f32> { return vec4<f32>(${parts.join(", ")}); }`;
}

/** The epilogue on a vec4 `name` of four adjacent columns (`bias`, `residual`: vec4 expressions). */
export function epilogueWgslVec4(epilogue: Epilogue, name: string, acc: string, bias: string, residual: string): string[] {
  const lines = [`var ${name} = ${acc} * p.alpha;`];
  if (epilogue.hasBias) lines.push(`${name} = ${name} + ${bias};`);
  if (epilogue.activation !== "none") lines.push(`${name} = act4(${name});`);
  if (epilogue.hasResidual) lines.push(`${name} = ${name} + ${residual};`);
  return lines;
}

/**
 * Short kernel-key suffix naming the epilogue, e.g. `_bias_silu_res`. The scale is always applied
 * (from the parameters), so it does not make another kernel.
 */
export function epilogueKey(epilogue: Epilogue): string {
  const parts = [
    epilogue.hasBias ? "bias" : "",
    epilogue.activation !== "none" ? epilogue.activation : "",
    epilogue.hasResidual ? "res" : "",
  ].filter((part) => part !== "");
  return parts.length > 0 ? `_${parts.join("_")}` : "";
}

/**
 * WGSL lines turning the accumulator `acc` into the stored value `name` for one output element:
 * `bias` and `residual` are WGSL expressions reading the bias for this element's channel and the
 * residual at its flat index. The scale `p.alpha` comes from the kernel parameters (1 when unused).
 */
export function epilogueWgsl(epilogue: Epilogue, name: string, acc: string, bias: string, residual: string): string[] {
  const lines = [`var ${name} = ${acc} * p.alpha;`];
  if (epilogue.hasBias) lines.push(`${name} = ${name} + ${bias};`);
  if (epilogue.activation !== "none") lines.push(`${name} = ${activationWgsl(epilogue.activation, name)};`);
  if (epilogue.hasResidual) lines.push(`${name} = ${name} + ${residual};`);
  return lines;
}

/** Applies an activation with the elementwise ops (autograd-aware), for unfused paths. */
export function applyActivation(activation: Activation, x: Tensor): Tensor {
  switch (activation) {
    case "none":
      return x;
    case "relu":
      return relu(x);
    case "silu":
      return silu(x);
    case "gelu":
      return gelu(x);
  }
}
