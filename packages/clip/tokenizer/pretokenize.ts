/**
 * CLIP's pre-tokenizer: the split on special tokens that transformers does before anything else,
 * and the regex that cuts cleaned text into words, single digits and runs of punctuation.
 *
 * @module
 */

/** The special tokens of CLIP's vocabulary. */
export const START_OF_TEXT = "<|startoftext|>";
/** The end (and padding, and unknown) token of CLIP's vocabulary. */
export const END_OF_TEXT = "<|endoftext|>";

/** The whitespace of Python's `regex` module (`\s`, the Unicode White_Space property). */
const REGEX_SPACE = "\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";

/**
 * CLIP's pre-tokenization pattern, compiled case-insensitively as transformers and openai/CLIP do
 * (so `'ſ` matches `'s`): special tokens, the contractions `'s 't 're 've 'm 'll 'd`, runs of
 * letters, single numeric characters, and runs of anything else but whitespace.
 *
 * @example
 * ```ts
 * "it's 42".match(CLIP_PATTERN); // ["it", "'s", "4", "2"]
 * ```
 */
export const CLIP_PATTERN = new RegExp(
  `<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|\\p{L}+|\\p{N}|[^${REGEX_SPACE}\\p{L}\\p{N}]+`,
  "giu",
);

// U+0345 (a combining mark) folds to a Greek letter: Python's `regex` with IGNORECASE then matches
// it with none of the alternatives, so it separates tokens and vanishes, whereas JavaScript's case
// folding would read it as a letter. A space does exactly what Python does.
const YPOGEGRAMMENI = /\u0345/g;

/**
 * Cuts cleaned text into pre-tokens with {@link CLIP_PATTERN} (Python's `re.findall`).
 *
 * @example
 * ```ts
 * pretokenize("it's 1girl, (cat:1.2)"); // ["it", "'s", "1", "girl", ",", "(", "cat", ":", "1", ".", "2", ")"]
 * ```
 */
export function pretokenize(text: string): string[] {
  const prepared = text.includes("\u0345") ? text.replace(YPOGEGRAMMENI, " ") : text;
  return prepared.match(CLIP_PATTERN) ?? [];
}

/**
 * Splits text around exact occurrences of special tokens, keeping them as pieces, as transformers'
 * `tokens_trie.split` does before cleaning each piece on its own; empty pieces are dropped.
 *
 * @example
 * ```ts
 * splitOnSpecialTokens("a<|endoftext|>b", ["<|startoftext|>", "<|endoftext|>"]); // ["a", "<|endoftext|>", "b"]
 * ```
 */
export function splitOnSpecialTokens(text: string, specialTokens: readonly string[]): string[] {
  if (!specialTokens.some((token) => text.includes(token))) return text.length > 0 ? [text] : [];
  const pieces: string[] = [];
  let start = 0;
  let index = 0;
  while (index < text.length) {
    const special = longestSpecialAt(text, index, specialTokens);
    if (special === null) {
      index += 1;
      continue;
    }
    if (index > start) pieces.push(text.slice(start, index));
    pieces.push(special);
    index += special.length;
    start = index;
  }
  if (start < text.length) pieces.push(text.slice(start));
  return pieces;
}

function longestSpecialAt(text: string, index: number, specialTokens: readonly string[]): string | null {
  let longest: string | null = null;
  for (const token of specialTokens) {
    if (text.startsWith(token, index) && (longest === null || token.length > longest.length)) longest = token;
  }
  return longest;
}
