import { add, type LayerOptions, LayerNorm, Linear, Module, mul, type Tensor, tidy } from "@spo/wgpu-tensor";
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
 * A DiT-style adaLN modulation of one encoder layer: each tensor broadcasts against the tokens
 * [B, L, hidden] (shape [B, 1, hidden] for one vector per sample).
 */
export interface CLIPLayerModulation {
  shiftMsa: Tensor;
  scaleMsa: Tensor;
  gateMsa: Tensor;
  shiftMlp: Tensor;
  scaleMlp: Tensor;
  gateMlp: Tensor;
}

/** Options of one encoder-layer call. */
export interface CLIPEncoderLayerOptions extends CLIPAttentionOptions {
  /**
   * adaLN modulation (the step-aware preference model's time conditioning):
   *   h = x + gate_msa ⊙ attn(LN1(x)·(1 + scale_msa) + shift_msa)
   *   out = h + gate_mlp ⊙ mlp(LN2(h)·(1 + scale_mlp) + shift_mlp)
   * Absent: the plain CLIP layer.
   */
  modulation?: CLIPLayerModulation;
  /**
   * A conditioning tensor handed unchanged to every layer. Plain CLIP layers ignore it; conditioned
   * layers (subclasses made through the encoder's `createLayer`) turn it into their `modulation`.
   */
  conditioning?: Tensor;
}

/** x·(1 + scale) + shift, broadcasting the modulation over tokens. */
function modulate(x: Tensor, shift: Tensor, scale: Tensor): Tensor {
  return add(add(x, mul(x, scale)), shift);
}

/**
 * transformers' `CLIPEncoderLayer` (pre-LayerNorm):
 *   h = x + self_attn(layer_norm1(x));  out = h + mlp(layer_norm2(h))
 * With `modulation` the same layer is DiT's adaLN block (see `CLIPEncoderLayerOptions`), which is
 * how the step-aware preference model conditions CLIP's vision tower on the timestep while keeping
 * the checkpoint names.
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

  forward(x: Tensor, options: CLIPEncoderLayerOptions = {}): Tensor {
    const modulation = options.modulation;
    if (!modulation) {
      return tidy(() => {
        // 1. attention block with its residual
        const h = add(x, this.self_attn.forward(this.layer_norm1.forward(x), options));
        // 2. MLP block with its residual
        return add(h, this.mlp.forward(this.layer_norm2.forward(h)));
      });
    }
    return tidy(() => {
      // 1. modulated attention block, gated residual
      const attnInput = modulate(this.layer_norm1.forward(x), modulation.shiftMsa, modulation.scaleMsa);
      const h = add(x, mul(modulation.gateMsa, this.self_attn.forward(attnInput, options)));
      // 2. modulated MLP block, gated residual
      const mlpInput = modulate(this.layer_norm2.forward(h), modulation.shiftMlp, modulation.scaleMlp);
      return add(h, mul(modulation.gateMlp, this.mlp.forward(mlpInput)));
    });
  }
}

/** Options of `CLIPEncoder.forward` (every layer gets them). */
export interface CLIPEncoderOptions extends CLIPEncoderLayerOptions {
  /** Run only the first `numLayers` layers (clip skip stops early). Default: all. */
  numLayers?: number;
}

/** Makes layer `index` of an encoder (default: a plain `CLIPEncoderLayer`). */
export type CLIPEncoderLayerFactory = (config: CLIPEncoderConfig, options: LayerOptions, index: number) => CLIPEncoderLayer;

/**
 * transformers' `CLIPEncoder`: `layers.0 … layers.N−1` applied in order. `createLayer` lets a
 * variant use its own layer class (a subclass of `CLIPEncoderLayer`) under the same names.
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

  constructor(config: CLIPEncoderConfig, options: LayerOptions = {}, createLayer?: CLIPEncoderLayerFactory) {
    super();
    this.layers = [];
    for (let i = 0; i < config.numHiddenLayers; i++) {
      const layer = createLayer ? createLayer(config, options, i) : new CLIPEncoderLayer(config, options);
      this.layers.push(this.registerModule(`layers.${i}`, layer));
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
