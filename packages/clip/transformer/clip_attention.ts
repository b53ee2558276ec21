import { type LayerOptions, Linear, Module, permute, reshape, scaledDotProductAttention, type Tensor, tidy } from "@spo/wgpu-tensor";

/** Options of one attention call. */
export interface CLIPAttentionOptions {
  /** Token i attends only to tokens j ≤ i (the text tower); the vision tower sees everything. */
  isCausal?: boolean;
  /** Additive mask broadcastable to [B, heads, L, L] (0 keeps, a large negative value hides). */
  attnMask?: Tensor;
}

/**
 * transformers' `CLIPAttention`: multi-head self-attention with biased projections named as in
 * CLIP checkpoints (`q_proj`, `k_proj`, `v_proj`, `out_proj`), scale 1/√headDim. The core is the
 * fused `scaledDotProductAttention` kernel (the L×L score matrix is never stored).
 *
 * @example
 * ```ts
 * const attention = new CLIPAttention(768, 12);
 * const y = attention.forward(x, { isCausal: true }); // x [B, 77, 768] → [B, 77, 768]
 * ```
 */
export class CLIPAttention extends Module {
  readonly numHeads: number;
  readonly headDim: number;
  readonly k_proj: Linear;
  readonly v_proj: Linear;
  readonly q_proj: Linear;
  readonly out_proj: Linear;

  constructor(hiddenSize: number, numHeads: number, options: LayerOptions = {}) {
    super();
    if (hiddenSize % numHeads !== 0) {
      throw new RangeError(`Cannot make CLIPAttention(${hiddenSize}, ${numHeads}): the width must be divisible by the head count`);
    }
    this.numHeads = numHeads;
    this.headDim = hiddenSize / numHeads;
    // registration order = transformers' state_dict order
    this.k_proj = this.registerModule("k_proj", new Linear(hiddenSize, hiddenSize, options));
    this.v_proj = this.registerModule("v_proj", new Linear(hiddenSize, hiddenSize, options));
    this.q_proj = this.registerModule("q_proj", new Linear(hiddenSize, hiddenSize, options));
    this.out_proj = this.registerModule("out_proj", new Linear(hiddenSize, hiddenSize, options));
  }

  /** x [B, L, hidden] → [B, L, hidden]. */
  forward(x: Tensor, options: CLIPAttentionOptions = {}): Tensor {
    return tidy(() => {
      const [batch, length] = x.shape;
      // 1. project and split heads: [B, L, H·D] → [B, H, L, D]
      const q = this.#splitHeads(this.q_proj.forward(x));
      const k = this.#splitHeads(this.k_proj.forward(x));
      const v = this.#splitHeads(this.v_proj.forward(x));
      // 2. softmax(q·kᵀ/√D + mask)·v
      const attended = scaledDotProductAttention(q, k, v, { isCausal: options.isCausal, attnMask: options.attnMask });
      // 3. merge heads and project out
      const merged = reshape(permute(attended, [0, 2, 1, 3]), [batch, length, this.numHeads * this.headDim]);
      return this.out_proj.forward(merged);
    });
  }

  #splitHeads(x: Tensor): Tensor {
    const [batch, length] = x.shape;
    return permute(reshape(x, [batch, length, this.numHeads, this.headDim]), [0, 2, 1, 3]);
  }
}
