/**
 * Computes the outputs of an oracle manifest of kind `tokenizer` (shared/fixtures/oracle/README.md):
 * for every case's `prompt`, what transformers' CLIPTokenizer gave (`input_ids` padded and truncated
 * to `model_max_length`, `untruncated_ids`, the BPE `tokens`, `num_tokens_with_special`) and, for
 * comparison, what openai/CLIP's tokenizer gives (`openai_simple_tokenizer_encode`,
 * `openai_clip_tokenize_truncate`, `hf_equals_openai_encode`).
 *
 * @module
 */

import { CLIP_PATTERN, type CLIPTokenizer, openaiEncode, openaiTokenize } from "../../../packages/clip/mod.ts";

/** The fields of a `tokenizer` manifest this reads. */
export interface TokenizerParityManifest {
  kind: string;
  config: {
    vocab_file?: string;
    merges_file?: string;
    bos_token_id?: number;
    eos_token_id?: number;
    pad_token_id?: number;
    model_max_length?: number;
    pattern?: string;
    pattern_flags?: string;
  };
  cases: readonly TokenizerParityCase[];
}

/** One case of a `tokenizer` manifest: its input, and whatever expected outputs it lists. */
export interface TokenizerParityCase {
  prompt: string;
  [output: string]: unknown;
}

/** What this tokenizer gives for one case, under the manifest's output names. */
export interface TokenizerParityResult {
  prompt: string;
  input_ids: number[];
  untruncated_ids: number[];
  tokens: string[];
  num_tokens_with_special: number;
  openai_simple_tokenizer_encode: number[];
  openai_clip_tokenize_truncate: number[];
  hf_equals_openai_encode: boolean;
}

// The pattern as the manifest writes it (Python source), which is what CLIP_PATTERN implements.
const CLIP_PATTERN_SOURCE = "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

function checkConfig(manifest: TokenizerParityManifest, tokenizer: CLIPTokenizer): void {
  const config = manifest.config;
  const mismatches: string[] = [];
  const expectId = (field: "bos_token_id" | "eos_token_id" | "pad_token_id", actual: number) => {
    if (config[field] !== undefined && config[field] !== actual) mismatches.push(`${field} ${config[field]} (the tokenizer has ${actual})`);
  };
  expectId("bos_token_id", tokenizer.bosTokenId);
  expectId("eos_token_id", tokenizer.eosTokenId);
  expectId("pad_token_id", tokenizer.padTokenId);
  if (config.pattern !== undefined && config.pattern !== CLIP_PATTERN_SOURCE)
    mismatches.push(`pattern ${config.pattern} (implemented: ${CLIP_PATTERN.source})`);
  if (config.pattern_flags !== undefined && config.pattern_flags !== "IGNORECASE") mismatches.push(`pattern_flags ${config.pattern_flags}`);
  if (mismatches.length > 0) {
    throw new RangeError(`Cannot run tokenizer case ${JSON.stringify(manifest.kind)}: the manifest asks for ${mismatches.join(", ")}`);
  }
}

/**
 * Runs every case of a `tokenizer` manifest through `tokenizer` (load it with
 * `loadTokenizerForManifest` from `@spo/clip/node`, or `CLIPTokenizer.fromUrl` in a browser) and
 * returns one result per case, in order, with the manifest's field names.
 *
 * @example
 * ```ts
 * const results = tokenizerParityCase(manifest, tokenizer);
 * results[0].input_ids; // compare with manifest.cases[0].input_ids
 * ```
 */
export function tokenizerParityCase(manifest: TokenizerParityManifest, tokenizer: CLIPTokenizer): TokenizerParityResult[] {
  checkConfig(manifest, tokenizer);
  const maxLength = manifest.config.model_max_length ?? tokenizer.modelMaxLength;
  return manifest.cases.map(({ prompt }) => {
    const untruncated = tokenizer.encode(prompt, { padding: false, truncation: false });
    const openai = openaiEncode(tokenizer, prompt);
    return {
      prompt,
      input_ids: tokenizer.encode(prompt, { maxLength, padding: "max_length", truncation: true }),
      untruncated_ids: untruncated,
      tokens: tokenizer.tokenize(prompt),
      num_tokens_with_special: Math.min(untruncated.length, maxLength),
      openai_simple_tokenizer_encode: openai,
      openai_clip_tokenize_truncate: openaiTokenize(tokenizer, prompt, maxLength),
      hf_equals_openai_encode: openai.join(",") === untruncated.slice(1, -1).join(","),
    };
  });
}
