import { runOp } from "../run_op.ts";
import type { OpDef } from "../op_def.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { attentionBackward } from "./attention_backward.ts";
import { type AttentionAttrs, attentionDims } from "./attention_dims.ts";
import { checkBindingSizes } from "../binding_limit.ts";
import { attentionForwardKernel } from "./attention_kernel.ts";
import { referenceAttention } from "./attention_reference.ts";

/** Options of `scaledDotProductAttention`, as in PyTorch's `F.scaled_dot_product_attention`. */
export interface ScaledDotProductAttentionOptions {
  /**
   * Additive float mask broadcastable to [B, H, Lq, Lk], same dtype as the query: 0 keeps a score,
   * a large negative number or −Infinity hides it. A row with every key hidden has no defined
   * result (PyTorch gives NaN). Boolean masks are not supported: convert them first.
   */
  attnMask?: Tensor | null;
  /** Query i sees only keys j ≤ i (top-left aligned, as in PyTorch). Not with `attnMask`. */
  isCausal?: boolean;
  /** Multiplies QKᵀ; default 1/√D with D the query's head size. */
  scale?: number;
}

const OP_NAME = "scaledDotProductAttention";

/** The primitive op: inputs query, key, value and an optional mask. */
export const attentionOp: OpDef<AttentionAttrs> = {
  name: OP_NAME,
  check(inputs, attrs) {
    const [query, key, value, mask] = inputs;
    const dims = attentionDims(OP_NAME, query, key, value, mask, attrs);
    return { shape: [dims.batch, dims.heads, dims.queries, dims.valueSize], dtype: query.dtype };
  },
  kernel(inputs, attrs, output, context) {
    const [query, key, value, mask] = inputs;
    const dims = attentionDims(OP_NAME, query, key, value, mask, attrs);
    checkBindingSizes(OP_NAME, [...inputs, output], context.maxBindingBytes);
    return attentionForwardKernel(dims, attrs, query.dtype);
  },
  reference(inputs, attrs) {
    const [query, key, value, mask] = inputs;
    return referenceAttention(query, key, value, { scale: attrs.scale, isCausal: attrs.isCausal, mask });
  },
  backward: attentionBackward,
};

/**
 * Attention softmax(Q·Kᵀ·scale + mask)·V over the last two dimensions, fused: keys and values are
 * streamed through an online softmax (running max and sum, as in flash attention), so the
 * [Lq, Lk] score matrix is never stored, in forward or in backward.
 *
 * Shapes: query [B, H, Lq, D], key [B, H, Lk, D], value [B, H, Lk, Dv] → [B, H, Lq, Dv], with head
 * sizes up to 256; f32, or f16 storage computed in f32.
 *
 * Gradient, with S = Q·Kᵀ·scale + mask, P = softmax(S), O = P·V:
 * dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P ∘ (dP − rowsum(dO ∘ O)), dQ = dS·K·scale, dK = dSᵀ·Q·scale,
 * dMask = dS (summed over broadcast dimensions by autograd). Backward recomputes P from a saved
 * per-row log-sum-exp instead of keeping it.
 *
 * @example
 * ```ts
 * const q = tensor(new Float32Array(2 * 8 * 77 * 64), [2, 8, 77, 64]);
 * const out = scaledDotProductAttention(q, q, q, { isCausal: true }); // CLIP's causal self-attention
 * out.shape; // [2, 8, 77, 64]
 * ```
 */
export function scaledDotProductAttention(
  query: Tensor,
  key: Tensor,
  value: Tensor,
  options: ScaledDotProductAttentionOptions = {},
): Tensor {
  const mask = options.attnMask ?? null;
  const inputs = mask ? [query, key, value, mask] : [query, key, value];
  const headSize = query.shape[query.shape.length - 1] ?? 0;
  const attrs: AttentionAttrs = {
    scale: options.scale ?? 1 / Math.sqrt(headSize),
    isCausal: options.isCausal ?? false,
    needsGrad: inputs.map((t) => t.requiresGrad),
  };
  return runOp(attentionOp, inputs, attrs);
}
