import { tidy } from "../memory/scope.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { type LayerOptions, layerOptions } from "./init.ts";
import { Linear } from "./linear.ts";
import { Module } from "./module.ts";
import { permute, reshape, scaledDotProductAttention } from "./_ops.ts";

export interface AttentionOptions extends LayerOptions {
  /** Width of the context for cross-attention (default: self-attention, = queryDim). */
  crossAttentionDim?: number;
  heads?: number;
  dimHead?: number;
  /** Bias on to_q/to_k/to_v (false in SD's UNet, true in CLIP). */
  bias?: boolean;
  /** Bias on to_out.0. Default true. */
  outBias?: boolean;
}

/**
 * Multi-head attention with diffusers' projection names (`to_q`, `to_k`, `to_v`, `to_out.0`), so
 * UNet checkpoints and LoRAs address its layers by their usual keys. The score matrix is never
 * materialised: the core is the fused `scaledDotProductAttention` kernel.
 */
export class Attention extends Module {
  readonly heads: number;
  readonly dimHead: number;
  readonly to_q: Linear;
  readonly to_k: Linear;
  readonly to_v: Linear;
  readonly to_out: Linear;

  constructor(queryDim: number, options: AttentionOptions = {}) {
    super();
    this.heads = options.heads ?? 8;
    this.dimHead = options.dimHead ?? 64;
    const inner = this.heads * this.dimHead;
    const contextDim = options.crossAttentionDim ?? queryDim;
    const bias = options.bias ?? false;
    const layer = layerOptions(options);
    this.to_q = this.registerModule("to_q", new Linear(queryDim, inner, { ...layer, bias }));
    this.to_k = this.registerModule("to_k", new Linear(contextDim, inner, { ...layer, bias }));
    this.to_v = this.registerModule("to_v", new Linear(contextDim, inner, { ...layer, bias }));
    this.to_out = this.registerModule("to_out.0", new Linear(inner, queryDim, { ...layer, bias: options.outBias ?? true }));
  }

  /** x [B, L, queryDim], context [B, S, contextDim] (default x); attnMask additive, broadcastable to [B, H, L, S]. */
  forward(x: Tensor, context?: Tensor, options: { attnMask?: Tensor; isCausal?: boolean } = {}): Tensor {
    return tidy(() => {
      const source = context ?? x;
      const q = this.#splitHeads(this.to_q.forward(x));
      const k = this.#splitHeads(this.to_k.forward(source));
      const v = this.#splitHeads(this.to_v.forward(source));
      const attended = scaledDotProductAttention(q, k, v, options);
      const [batch, , length] = attended.shape;
      const merged = reshape(permute(attended, [0, 2, 1, 3]), [batch, length, this.heads * this.dimHead]);
      return this.to_out.forward(merged);
    });
  }

  /** [B, L, H·D] → [B, H, L, D] */
  #splitHeads(x: Tensor): Tensor {
    const [batch, length] = x.shape;
    return permute(reshape(x, [batch, length, this.heads, this.dimHead]), [0, 2, 1, 3]);
  }
}
