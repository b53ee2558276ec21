import { add, DTypeError, Embedding, type LayerOptions, Module, narrow, ShapeError, type Tensor, tidy } from "@spo/wgpu-tensor";
import type { CLIPTextConfig } from "../transformer/clip_config.ts";

/**
 * transformers' `CLIPTextEmbeddings`: token_embedding[ids] + position_embedding[0 … L−1].
 * Ids outside [0, vocabSize) read as zero vectors (torch would raise; checking would need a readback).
 *
 * @example
 * ```ts
 * const embeddings = new CLIPTextEmbeddings(config);
 * embeddings.forward(ids); // i32 [B, 77] → [B, 77, hidden]
 * ```
 */
export class CLIPTextEmbeddings extends Module {
  readonly token_embedding: Embedding;
  readonly position_embedding: Embedding;
  readonly maxPositions: number;

  constructor(config: Pick<CLIPTextConfig, "vocabSize" | "hiddenSize" | "maxPositionEmbeddings">, options: LayerOptions = {}) {
    super();
    this.maxPositions = config.maxPositionEmbeddings;
    this.token_embedding = this.registerModule("token_embedding", new Embedding(config.vocabSize, config.hiddenSize, options));
    this.position_embedding = this.registerModule(
      "position_embedding",
      new Embedding(config.maxPositionEmbeddings, config.hiddenSize, options),
    );
  }

  forward(ids: Tensor): Tensor {
    checkIds("CLIPTextEmbeddings", ids, this.maxPositions);
    return tidy(() => {
      const tokens = this.token_embedding.forward(ids);
      const positions = narrow(this.position_embedding.weight, 0, 0, ids.shape[1]);
      return add(tokens, positions);
    });
  }
}

/**
 * Ids must be integer [batch, length] with 1 ≤ length ≤ the model's positions; throws before any GPU work.
 *
 * @example
 * ```ts
 * checkIds("CLIPTextModel", tensor(new Float32Array(77), [1, 77]), 77); // throws DTypeError: ids must be i32 or u32
 * ```
 */
export function checkIds(op: string, ids: Tensor, maxPositions: number): void {
  if (ids.dtype !== "i32" && ids.dtype !== "u32") {
    throw new DTypeError(op, [ids.dtype], `Cannot run ${op} on ids of dtype ${ids.dtype}: they must be i32 or u32`);
  }
  const [batch, length] = ids.shape;
  if (ids.ndim !== 2 || batch < 1 || length < 1 || length > maxPositions) {
    throw new ShapeError(
      op,
      [ids.shape],
      `Cannot run ${op} on ids of shape [${ids.shape.join(", ")}]: they must be [batch, length] with 1 ≤ length ≤ ${maxPositions}`,
    );
  }
}
