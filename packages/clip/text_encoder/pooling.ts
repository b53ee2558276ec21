import { add, argmax, cast, embedding, eq, reshape, ShapeError, type Tensor, tensor, tidy } from "@spo/wgpu-tensor";

/**
 * The token position each row of a CLIP text model is pooled at, exactly as transformers'
 * `CLIPTextTransformer` picks it (i32 [B]):
 * - `eosTokenId === 2` (the stale id in SD1.5's config, the legacy rule): the first position of
 *   the largest id in the row (the EOS, 49407, is the largest id of CLIP's vocabulary);
 * - otherwise: the first position whose id equals `eosTokenId` (0 when the row has none).
 *
 * @example
 * ```ts
 * const ids = tensor([49406, 320, 2368, 49407, 49407], [1, 5], { dtype: "i32" });
 * await poolingIndices(ids, 2).toArray();     // Int32Array [3]
 * await poolingIndices(ids, 49407).toArray(); // Int32Array [3]
 * ```
 */
export function poolingIndices(ids: Tensor, eosTokenId: number): Tensor {
  if (ids.ndim !== 2) {
    throw new ShapeError(
      "poolingIndices",
      [ids.shape],
      `Cannot pick pooling positions in ids of shape [${ids.shape.join(", ")}]: they must be [batch, length]`,
    );
  }
  return tidy(() => {
    if (eosTokenId === 2) return argmax(ids.dtype === "i32" ? ids : cast(ids, "i32"), -1);
    // ids up to 2^24 are exact in f32, far above any vocabulary size
    return argmax(eq(cast(ids, "f32"), eosTokenId), -1);
  });
}

/**
 * Row `indices[b]` of each `hidden[b]`: [B, L, D] and i32 [B] → [B, D] (`hidden[arange(B), indices]`).
 * Differentiable in `hidden` (the gradient is scattered back to the picked rows).
 *
 * @example
 * ```ts
 * const pooled = gatherTokens(lastHiddenState, poolingIndices(ids, 2)); // [B, D]
 * ```
 */
export function gatherTokens(hidden: Tensor, indices: Tensor): Tensor {
  const [batch, length, width] = hidden.shape;
  if (hidden.ndim !== 3 || indices.ndim !== 1 || indices.shape[0] !== batch) {
    throw new ShapeError(
      "gatherTokens",
      [hidden.shape, indices.shape],
      `Cannot gather tokens [${indices.shape.join(", ")}] from hidden states [${hidden.shape.join(", ")}]: they must be [B] and [B, L, D]`,
    );
  }
  return tidy(() => {
    const rowStarts = tensor(
      Int32Array.from({ length: batch }, (_, b) => b * length),
      [batch],
      { dtype: "i32", device: hidden.device },
    );
    const rows = add(cast(indices, "i32"), rowStarts);
    return embedding(reshape(hidden, [batch * length, width]), rows);
  });
}
