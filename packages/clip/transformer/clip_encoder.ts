import { add, type LayerOptions, LayerNorm, Linear, Module, type Tensor, tidy } from "@spo/wgpu-tensor";
import { clipActivation } from "./activations.ts";
import { CLIPAttention, type CLIPAttentionOptions } from "./clip_attention.ts";
import type { CLIPEncoderConfig } from "./clip_config.ts";

/**
 * transformers' `CLIPMLP`: fc2(act(fc1(x))), width hidden → intermediate → hidden.
 *
 * @example
 * ```ts
 * const mlp = new CLIPMLP({ hiddenSize: 768, intermediateSize: 3072, hiddenAct: "quick_gelu" });
 * mlp.forward(x); // [B, L, 768] → [B, L, 768]
 * ```
 */
export class CLIPMLP extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly activation: (x: Tensor) => Tensor;

  constructor(config: Pick<CLIPEncoderConfig, "hiddenSize" | "intermediateSize" | "hiddenAct">, options: LayerOptions = {}) {
    super();
    this.activation = clipActivation(config.hiddenAct);
    this.fc1 = this.registerModule("fc1", new Linear(config.hiddenSize, config.intermediateSize, options));
    this.fc2 = this.registerModule("fc2", new Linear(config.intermediateSize, config.hiddenSize, options));
  }

  forward(x: Tensor): Tensor {
    return tidy(() => this.fc2.forward(this.activation(this.fc1.forward(x))));
  }
}

/**
 * transformers' `CLIPEncoderLayer` (pre-LayerNorm):
 *   h = x + self_attn(layer_norm1(x));  out = h + mlp(layer_norm2(h))
 * Its parts are public so that variants (the step-aware preference model's adaLN layers) can
 * reuse them with the same checkpoint names.
 *
 * @example
 * ```ts
 * const layer = new CLIPEncoderLayer(config);
 * layer.forward(x, { isCausal: true });
 * ```
 */
export class CLIPEncoderLayer extends Module {
  readonly self_attn: CLIPAttention;
  readonly layer_norm1: LayerNorm;
  readonly mlp: CLIPMLP;
  readonly layer_norm2: LayerNorm;

  constructor(config: CLIPEncoderConfig, options: LayerOptions = {}) {
    super();
    const norm = { ...options, eps: config.layerNormEps };
    this.self_attn = this.registerModule("self_attn", new CLIPAttention(config.hiddenSize, config.numAttentionHeads, options));
    this.layer_norm1 = this.registerModule("layer_norm1", new LayerNorm(config.hiddenSize, norm));
    this.mlp = this.registerModule("mlp", new CLIPMLP(config, options));
    this.layer_norm2 = this.registerModule("layer_norm2", new LayerNorm(config.hiddenSize, norm));
  }

  forward(x: Tensor, options: CLIPAttentionOptions = {}): Tensor {
    return tidy(() => {
      // 1. attention block with its residual
      const h = add(x, this.self_attn.forward(this.layer_norm1.forward(x), options));
      // 2. MLP block with its residual
      return add(h, this.mlp.forward(this.layer_norm2.forward(h)));
    });
  }
}

/** Options of `CLIPEncoder.forward`. */
export interface CLIPEncoderOptions extends CLIPAttentionOptions {
  /** Run only the first `numLayers` layers (clip skip stops early). Default: all. */
  numLayers?: number;
}

/**
 * transformers' `CLIPEncoder`: `layers.0 … layers.N−1` applied in order.
 *
 * @example
 * ```ts
 * const encoder = new CLIPEncoder(config);
 * const out = encoder.forward(x, { isCausal: true });
 * const states = encoder.hiddenStates(x, { isCausal: true }); // every layer's output, N tensors
 * ```
 */
export class CLIPEncoder extends Module {
  readonly layers: CLIPEncoderLayer[];

  constructor(config: CLIPEncoderConfig, options: LayerOptions = {}) {
    super();
    this.layers = [];
    for (let i = 0; i < config.numHiddenLayers; i++) {
      this.layers.push(this.registerModule(`layers.${i}`, new CLIPEncoderLayer(config, options)));
    }
  }

  /** The output of the last layer run. */
  forward(x: Tensor, options: CLIPEncoderOptions = {}): Tensor {
    const count = this.#layerCount(options);
    return tidy(() => {
      let h = x;
      for (const layer of this.layers.slice(0, count)) h = layer.forward(h, options);
      return h;
    });
  }

  /** The output of every layer run, in order (without the input). */
  hiddenStates(x: Tensor, options: CLIPEncoderOptions = {}): Tensor[] {
    const count = this.#layerCount(options);
    return tidy(() => {
      const states: Tensor[] = [];
      let h = x;
      for (const layer of this.layers.slice(0, count)) {
        h = layer.forward(h, options);
        states.push(h);
      }
      return states;
    });
  }

  #layerCount(options: CLIPEncoderOptions): number {
    const count = options.numLayers ?? this.layers.length;
    if (!Number.isInteger(count) || count < 0 || count > this.layers.length) {
      throw new RangeError(`Cannot run CLIPEncoder for ${count} layers: it has ${this.layers.length}`);
    }
    return count;
  }
}
