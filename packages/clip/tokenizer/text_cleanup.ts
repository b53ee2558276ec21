/**
 * The text clean-up of transformers' CLIPTokenizer (with ftfy installed, as SD pipelines have it):
 * `whitespace_clean(ftfy.fix_text(text)).lower()`.
 *
 * @module
 */

import { fixText } from "./ftfy/fix_text.ts";

/** The characters of Python's `\s` (`str.isspace()`), which JavaScript's `\s` does not match exactly. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: Python's whitespace includes \x1c-\x1f
const PY_WHITESPACE_RUN = /[\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/g;

/**
 * Collapses every run of whitespace to one space and trims the ends (CLIP's `whitespace_clean`,
 * with Python's notion of whitespace).
 *
 * @example
 * ```ts
 * whitespaceClean("  a \t b\n\nc  "); // "a b c"
 * ```
 */
export function whitespaceClean(text: string): string {
  const collapsed = text.replace(PY_WHITESPACE_RUN, " ");
  const start = collapsed.startsWith(" ") ? 1 : 0;
  const end = collapsed.length > start && collapsed.endsWith(" ") ? collapsed.length - 1 : collapsed.length;
  return collapsed.slice(start, end);
}

/**
 * The text CLIP tokenizes: ftfy's `fix_text` (mojibake, HTML entities, curly quotes, fullwidth
 * forms, ...), then {@link whitespaceClean}, then lower case.
 *
 * @example
 * ```ts
 * cleanText("  A  Caf&eacute;  PHOTO "); // "a café photo"
 * ```
 */
export function cleanText(text: string): string {
  return whitespaceClean(fixText(text)).toLowerCase();
}
