import { gelu, geluTanh, mul, sigmoid, type Tensor, tidy } from "@spo/wgpu-tensor";
import type { CLIPHiddenAct } from "./clip_config.ts";

/**
 * OpenAI CLIP's activation, x·σ(1.702·x), composed from `mul` and `sigmoid` (so autograd needs
 * no rule of its own). Gradient: σ(1.702x) + 1.702·x·σ(1.702x)·(1 − σ(1.702x)).
 *
 * @example
 * ```ts
 * await quickGelu(tensor([0, 1])).toArray(); // Float32Array [0, 0.8458…]
 * ```
 */
export function quickGelu(x: Tensor): Tensor {
  return tidy(() => mul(x, sigmoid(mul(x, 1.702))));
}

/**
 * The function a config's `hidden_act` names: `quick_gelu`, `gelu` (exact, erf), and the tanh
 * approximation under its two transformers names `gelu_new` and `gelu_pytorch_tanh`.
 *
 * @example
 * ```ts
 * const act = clipActivation("quick_gelu");
 * const y = act(x);
 * ```
 */
export function clipActivation(name: CLIPHiddenAct): (x: Tensor) => Tensor {
  switch (name) {
    case "quick_gelu":
      return quickGelu;
    case "gelu":
      return gelu;
    case "gelu_new":
    case "gelu_pytorch_tanh":
      return geluTanh;
  }
}
