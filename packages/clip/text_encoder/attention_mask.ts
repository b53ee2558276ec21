import { add, cast, mul, reshape, ShapeError, sub, type Tensor, tensor, tidy } from "@spo/wgpu-tensor";

/** float32's lowest value, which transformers writes into masked score positions. */
const F32_MIN = -3.4028234663852886e38;

/**
 * The additive mask transformers' `CLIPTextTransformer` uses when an `attention_mask` is given:
 * the causal mask (F32_MIN above the diagonal) plus F32_MIN at padded keys, [B, 1, L, L]
 * (positions masked twice overflow to −∞, as in PyTorch's float32).
 *
 * @example
 * ```ts
 * const mask = textAttentionMask(tensor([[1, 1, 0]]), 3); // hides key 2 and every future key
 * ```
 */
export function textAttentionMask(attentionMask: Tensor, length: number): Tensor {
  const [batch] = attentionMask.shape;
  if (attentionMask.ndim !== 2 || attentionMask.shape[1] !== length) {
    throw new ShapeError(
      "CLIPTextModel",
      [attentionMask.shape],
      `Cannot use an attention mask of shape [${attentionMask.shape.join(", ")}]: it must be [batch, ${length}] like the ids`,
    );
  }
  return tidy(() => {
    const causalValues = new Float32Array(length * length);
    for (let i = 0; i < length; i++) for (let j = i + 1; j < length; j++) causalValues[i * length + j] = F32_MIN;
    const causal = tensor(causalValues, [1, 1, length, length], { device: attentionMask.device });
    const keep = attentionMask.dtype === "f32" ? attentionMask : cast(attentionMask, "f32");
    const padding = mul(sub(1, reshape(keep, [batch, 1, 1, length])), F32_MIN);
    return add(causal, padding);
  });
}
