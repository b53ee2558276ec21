/**
 * openai/CLIP's own tokenizer (`clip/simple_tokenizer.py` and `clip.tokenize`), which SD's
 * original LDM code used: the same vocabulary and BPE as transformers', with its own clean-up
 * (ftfy, then `html.unescape` twice) and zero padding.
 *
 * @module
 */

import type { CLIPTokenizer } from "./clip_tokenizer.ts";
import { htmlUnescape } from "./ftfy/html_unescape.ts";
import { fixText } from "./ftfy/fix_text.ts";
import { whitespaceClean } from "./text_cleanup.ts";

/**
 * openai/CLIP's `SimpleTokenizer.encode(text)`: `ftfy.fix_text`, `html.unescape` twice, whitespace
 * clean-up, lower case, then BPE; no special tokens. It differs from transformers' only on HTML
 * entities left after ftfy and on literal special-token strings (not split off first here).
 *
 * @example
 * ```ts
 * openaiEncode(tokenizer, "a photo of a cat"); // [320, 1125, 539, 320, 2368]
 * ```
 */
export function openaiEncode(tokenizer: CLIPTokenizer, text: string): number[] {
  // basic_clean's strip() is subsumed by whitespace_clean, which strips the same characters.
  const basic = htmlUnescape(htmlUnescape(fixText(text)));
  return tokenizer.encodeCleaned(whitespaceClean(basic).toLowerCase());
}

/**
 * `clip.tokenize(text, context_length, truncate=true)`: `[SOT] + ids + [EOT]` padded with zeros;
 * a longer row is cut to `contextLength` and its last id set to EOT.
 *
 * @example
 * ```ts
 * openaiTokenize(tokenizer, "a photo of a cat").slice(0, 8); // [49406, 320, 1125, 539, 320, 2368, 49407, 0]
 * ```
 */
export function openaiTokenize(tokenizer: CLIPTokenizer, text: string, contextLength = 77): number[] {
  let ids = [tokenizer.bosTokenId, ...openaiEncode(tokenizer, text), tokenizer.eosTokenId];
  if (ids.length > contextLength) {
    ids = ids.slice(0, contextLength);
    ids[contextLength - 1] = tokenizer.eosTokenId;
  }
  return [...ids, ...new Array<number>(contextLength - ids.length).fill(0)];
}
