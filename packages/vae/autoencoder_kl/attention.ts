import {
  add,
  concat,
  GroupNorm,
  type LayerOptions,
  Linear,
  matmul,
  Module,
  mul,
  narrow,
  permute,
  reshape,
  scaledDotProductAttention,
  softmax,
  type Tensor,
  tidy,
} from "@spo/wgpu-tensor";
import { VAE_NORM_EPS } from "./resnet.ts";

/** The largest head size `scaledDotProductAttention` runs fused (its kernels' private arrays). */
export const FUSED_MAX_HEAD_SIZE = 256;

/** Query rows per chunk of the unfused path keep each score block under this many bytes. */
const SCORE_CHUNK_BYTES = 32 * 1024 * 1024;

/** Options of `vaeAttentionCore` (tests use them to force the unfused path and several chunks). */
export interface VAEAttentionCoreOptions {
  /** Head sizes up to this run fused (default `FUSED_MAX_HEAD_SIZE`). */
  maxFusedHeadSize?: number;
  /** Bytes of scores per query-row chunk on the unfused path (default 32 MiB). */
  scoreChunkBytes?: number;
}

/**
 * softmax(q·kᵀ/√D)·v for q, k, v [B, H, L, D]: the fused kernel when D ≤ 256, otherwise
 * (SD's VAE has one head of 512) two matmuls and a softmax over blocks of query rows, so at most
 * ~32 MiB of scores exist at a time.
 *
 * @example
 * ```ts
 * const out = vaeAttentionCore(q, k, v); // [1, 1, 4096, 512] at a 64×64 latent
 * ```
 */
export function vaeAttentionCore(q: Tensor, k: Tensor, v: Tensor, options: VAEAttentionCoreOptions = {}): Tensor {
  const [batch, heads, length, headSize] = q.shape;
  if (headSize <= (options.maxFusedHeadSize ?? FUSED_MAX_HEAD_SIZE)) return scaledDotProductAttention(q, k, v);
  return tidy(() => {
    const scale = 1 / Math.sqrt(headSize);
    const rowsPerChunk = Math.max(1, Math.floor((options.scoreChunkBytes ?? SCORE_CHUNK_BYTES) / (4 * batch * heads * k.shape[2])));
    const chunks: Tensor[] = [];
    for (let start = 0; start < length; start += rowsPerChunk) {
      const rows = narrow(q, 2, start, Math.min(rowsPerChunk, length - start));
      const scores = mul(matmul(rows, k, { transposeB: true }), scale);
      chunks.push(matmul(softmax(scores, -1), v));
    }
    return chunks.length === 1 ? chunks[0] : concat(chunks, 2);
  });
}

/**
 * The VAE mid block's attention (diffusers `Attention` built from the deprecated attention
 * block): GroupNorm, then single-head self-attention over the H·W pixels with biased `to_q`,
 * `to_k`, `to_v`, `to_out.0`, plus the input (residual inside the block).
 *
 * @example
 * ```ts
 * const attention = new VAEAttention(512, 32);
 * attention.forward(x); // [B, 512, 64, 64] → same shape
 * ```
 */
export class VAEAttention extends Module {
  readonly group_norm: GroupNorm;
  readonly to_q: Linear;
  readonly to_k: Linear;
  readonly to_v: Linear;
  readonly to_out: Linear;

  constructor(channels: number, groups: number, options: LayerOptions = {}) {
    super();
    this.group_norm = this.registerModule("group_norm", new GroupNorm(groups, channels, { ...options, eps: VAE_NORM_EPS }));
    this.to_q = this.registerModule("to_q", new Linear(channels, channels, options));
    this.to_k = this.registerModule("to_k", new Linear(channels, channels, options));
    this.to_v = this.registerModule("to_v", new Linear(channels, channels, options));
    this.to_out = this.registerModule("to_out.0", new Linear(channels, channels, options));
  }

  forward(x: Tensor): Tensor {
    const [batch, channels, height, width] = x.shape;
    const pixels = height * width;
    return tidy(() => {
      // 1. normalise, then pixels as tokens: [B, C, H, W] → [B, HW, C]
      const tokens = permute(reshape(this.group_norm.forward(x), [batch, channels, pixels]), [0, 2, 1]);
      // 2. one head over all pixels
      const asHead = (t: Tensor) => reshape(t, [batch, 1, pixels, channels]);
      const q = asHead(this.to_q.forward(tokens));
      const k = asHead(this.to_k.forward(tokens));
      const v = asHead(this.to_v.forward(tokens));
      const attended = reshape(vaeAttentionCore(q, k, v), [batch, pixels, channels]);
      // 3. project out, back to [B, C, H, W], residual
      const out = this.to_out.forward(attended);
      return add(reshape(permute(out, [0, 2, 1]), [batch, channels, height, width]), x);
    });
  }
}
