/**
 * Prompt → UNet context the way AUTOMATIC1111 builds it: extra-network tags removed (LoRA tags
 * returned), emphasis parsed, 75-token chunks encoded by the CLIP text encoder one chunk at a
 * time, each token's embedding multiplied by its weight and the chunk rescaled to its original
 * mean ("Emphasis: Original"), chunks concatenated along the sequence ([B, 77·k, D]).
 *
 * @module
 */

import { concat, type Device, div, mean, mul, noGrad, type Tensor, tensor, tidy, toDType } from "@spo/wgpu-tensor";
import { parseExtraNetworks } from "../prompt/extra_networks.ts";
import { type LoraTag, loraTagsFromNetworks } from "../prompt/lora_tags.ts";
import { type ChunkTokenizer, emptyChunk, type PromptChunkOptions, type TokenChunk, tokenizePromptChunks } from "./prompt_chunks.ts";

/** The text-encoder surface the prompt encoder needs (`@spo/clip`'s `CLIPTextModel`). */
export interface PromptTextEncoder {
  forward(ids: Tensor, options?: { clipSkip?: number }): { lastHiddenState: Tensor; pooledOutput: Tensor };
}

/** Options of {@link encodePrompts}. */
export interface EncodePromptsOptions extends PromptChunkOptions {
  /** Pad every prompt to at least this many chunks (a negative prompt matches its positive one). */
  minChunks?: number;
  /** diffusers' `clip_skip` (A1111's "Clip skip N" is N − 1). */
  clipSkip?: number;
  /** The device of the text encoder (default: the default device). */
  device?: Device;
}

/** The chunked token ids of a batch of prompts (before any GPU work). */
export interface TokenizedPrompts {
  /** `chunks[i][b]`: chunk i of prompt b (prompts with fewer chunks get empty chunks). */
  chunks: TokenChunk[][];
  /** `<lora:…>` tags of each prompt. */
  loraTags: LoraTag[][];
  /** A1111's token count of each prompt. */
  tokenCounts: number[];
}

/**
 * Tokenizes a batch of prompts into A1111 chunks, all padded to the same number of chunks
 * (at least `minChunks`) with empty chunks, and collects their `<lora:…>` tags.
 *
 * @example
 * ```ts
 * const { chunks, loraTags } = tokenizePrompts(tokenizer, ["<lora:spo:0.8> a cat", "a dog"]);
 * chunks.length; // 1 (chunk count), chunks[0].length; // 2 (batch)
 * loraTags[0][0].name; // "spo"
 * ```
 */
export function tokenizePrompts(
  tokenizer: ChunkTokenizer,
  prompts: readonly string[],
  options: EncodePromptsOptions = {},
): TokenizedPrompts {
  const loraTags: LoraTag[][] = [];
  const perPrompt = prompts.map((prompt) => {
    const { text, networks } = parseExtraNetworks(prompt);
    loraTags.push(loraTagsFromNetworks(networks));
    return tokenizePromptChunks(tokenizer, text, options);
  });
  const count = Math.max(options.minChunks ?? 1, ...perPrompt.map((p) => p.chunks.length));
  const chunks: TokenChunk[][] = [];
  for (let i = 0; i < count; i++) chunks.push(perPrompt.map((p) => p.chunks[i] ?? emptyChunk(options)));
  return { chunks, loraTags, tokenCounts: perPrompt.map((p) => p.tokenCount) };
}

/**
 * Encodes one batch of chunks: z = CLIP(ids) [B, 77, D], z·w per token, then z ·= mean(z)/mean(z·w)
 * over the whole batch (A1111's `EmphasisOriginal.after_transformers`). Not differentiable by
 * design (inference); the caller disposes the result.
 */
export function encodeChunkBatch(textEncoder: PromptTextEncoder, batch: readonly TokenChunk[], clipSkip = 0, device?: Device): Tensor {
  const length = batch[0]!.ids.length;
  const ids = new Int32Array(batch.length * length);
  const weights = new Float32Array(batch.length * length);
  batch.forEach((chunk, b) => {
    ids.set(chunk.ids, b * length);
    weights.set(chunk.weights, b * length);
  });
  // no autograd graph: its saved tensors would outlive the tidy scope (36 buffers a call)
  return noGrad(() =>
    tidy(() => {
      // an f16 text encoder's output comes back to f32 here: emphasis weighting and means stay f32
      const z = toDType(
        textEncoder.forward(tensor(ids, [batch.length, length], { dtype: "i32", device }), { clipSkip }).lastHiddenState,
        "f32",
      );
      if (weights.every((w) => w === 1)) return z;
      const weighted = mul(z, tensor(weights, [batch.length, length, 1], { device: z.device }));
      return mul(weighted, div(mean(z), mean(weighted)));
    }),
  );
}

/**
 * The UNet context of a batch of prompts: [B, 77·k, D] with k the chunk count, plus the LoRA tags
 * found in the prompts.
 *
 * @example
 * ```ts
 * const { context, chunkCount } = encodePrompts(textEncoder, tokenizer, ["a (red:1.2) cat"]);
 * context.shape; // [1, 77, 768]
 * const negative = encodePrompts(textEncoder, tokenizer, [""], { minChunks: chunkCount });
 * ```
 */
export function encodePrompts(
  textEncoder: PromptTextEncoder,
  tokenizer: ChunkTokenizer,
  prompts: readonly string[],
  options: EncodePromptsOptions = {},
): { context: Tensor; chunkCount: number; loraTags: LoraTag[][]; tokenCounts: number[] } {
  const { chunks, loraTags, tokenCounts } = tokenizePrompts(tokenizer, prompts, options);
  const context = noGrad(() =>
    tidy(() => {
      const parts = chunks.map((batch) => encodeChunkBatch(textEncoder, batch, options.clipSkip ?? 0, options.device));
      return parts.length === 1 ? parts[0]! : concat(parts, 1);
    }),
  );
  return { context, chunkCount: chunks.length, loraTags, tokenCounts };
}
