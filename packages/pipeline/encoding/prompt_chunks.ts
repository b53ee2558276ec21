/**
 * AUTOMATIC1111's prompt chunking (`modules/sd_hijack_clip.py`, `tokenize_line`): emphasis-parsed
 * text runs → CLIP chunks of 75 tokens, each wrapped as BOS + 75 + EOS (77 ids), with one weight
 * per token. `BREAK` closes the current chunk; a chunk that fills up while a comma lies within the
 * last `commaPaddingBacktrack` tokens moves the text after that comma into the next chunk.
 *
 * @module
 */

import { parsePromptAttention, type PromptChunk } from "../prompt/prompt_attention.ts";

/** One 77-id CLIP chunk and the weight of each of its positions (1 for BOS, EOS and padding). */
export interface TokenChunk {
  ids: number[];
  weights: number[];
}

/** The tokenizer surface the chunker needs (`@spo/clip`'s `CLIPTokenizer` has it). */
export interface ChunkTokenizer {
  /** Ids of a text without special tokens, padding or truncation. */
  encodeText(text: string): number[];
  /** Token string → id. */
  getVocab(): ReadonlyMap<string, number>;
}

/** Options of {@link tokenizePromptChunks}. */
export interface PromptChunkOptions {
  /** Tokens per chunk between BOS and EOS (75 for SD1.5). */
  chunkLength?: number;
  /** A1111's "Prompt word wrap length limit" (default 20; 0 turns it off). */
  commaPaddingBacktrack?: number;
  /** Start / end ids (49406 / 49407); the end id also pads, like A1111 does for SD1.5. */
  bosId?: number;
  eosId?: number;
}

/** The chunks of one prompt and A1111's token count (the number shown as "n/75"). */
export interface PromptTokenChunks {
  chunks: TokenChunk[];
  tokenCount: number;
}

const BOS = 49406;
const EOS = 49407;

/**
 * Splits a prompt (A1111 emphasis syntax, extra-network tags already removed) into weighted
 * 77-id chunks exactly like the webui's `tokenize_line`; an empty prompt gives one chunk.
 *
 * @example
 * ```ts
 * const { chunks } = tokenizePromptChunks(tokenizer, "a (red:1.2) cat BREAK a dog");
 * chunks.length; // 2
 * chunks[0].ids.slice(0, 5); // [49406, 320, 736, 2368, 49407]
 * chunks[0].weights.slice(0, 4); // [1, 1, 1.2, 1]
 * ```
 */
export function tokenizePromptChunks(tokenizer: ChunkTokenizer, prompt: string, options: PromptChunkOptions = {}): PromptTokenChunks {
  const parsed: PromptChunk[] = parsePromptAttention(prompt);
  return chunkParsedPrompt(tokenizer, parsed, options);
}

/** {@link tokenizePromptChunks} from already parsed `[text, weight]` runs. */
export function chunkParsedPrompt(
  tokenizer: ChunkTokenizer,
  parsed: readonly PromptChunk[],
  options: PromptChunkOptions = {},
): PromptTokenChunks {
  const chunkLength = options.chunkLength ?? 75;
  const backtrack = options.commaPaddingBacktrack ?? 20;
  const bos = options.bosId ?? BOS;
  const eos = options.eosId ?? EOS;
  const comma = tokenizer.getVocab().get(",</w>") ?? -1;
  const chunks: TokenChunk[] = [];
  let ids: number[] = [];
  let weights: number[] = [];
  let tokenCount = 0;
  let lastComma = -1;

  const nextChunk = (isLast = false) => {
    tokenCount += isLast ? ids.length : chunkLength;
    const toAdd = chunkLength - ids.length;
    for (let i = 0; i < toAdd; i++) {
      ids.push(eos);
      weights.push(1);
    }
    chunks.push({ ids: [bos, ...ids, eos], weights: [1, ...weights, 1] });
    lastComma = -1;
    ids = [];
    weights = [];
  };

  for (const [text, weight] of parsed) {
    if (text === "BREAK" && weight === -1) {
      nextChunk();
      continue;
    }
    for (const token of tokenizer.encodeText(text)) {
      if (token === comma) {
        lastComma = ids.length;
      } else if (backtrack !== 0 && ids.length === chunkLength && lastComma !== -1 && ids.length - lastComma <= backtrack) {
        const breakAt = lastComma + 1;
        const movedIds = ids.slice(breakAt);
        const movedWeights = weights.slice(breakAt);
        ids = ids.slice(0, breakAt);
        weights = weights.slice(0, breakAt);
        nextChunk();
        ids = movedIds;
        weights = movedWeights;
      }
      if (ids.length === chunkLength) nextChunk();
      ids.push(token);
      weights.push(weight);
    }
  }
  if (ids.length > 0 || chunks.length === 0) nextChunk(true);
  return { chunks, tokenCount };
}

/** A1111's `empty_chunk`: BOS then EOS to the end, all weights 1 (pads a batch to the same chunk count). */
export function emptyChunk(options: PromptChunkOptions = {}): TokenChunk {
  const chunkLength = options.chunkLength ?? 75;
  const ids = [options.bosId ?? BOS, ...new Array<number>(chunkLength + 1).fill(options.eosId ?? EOS)];
  return { ids, weights: new Array<number>(chunkLength + 2).fill(1) };
}
