/**
 * `fixText`: a port of ftfy's `fix_text` (version 6.2) with its default configuration, the text
 * clean-up that transformers' CLIPTokenizer applies before tokenizing when ftfy is installed.
 *
 * @module
 */

import { fixEncoding } from "./fix_encoding.ts";
import {
  fixC1Controls,
  fixCharacterWidth,
  fixLatinLigatures,
  fixLineBreaks,
  fixSurrogates,
  removeControlChars,
  removeTerminalEscapes,
  uncurlQuotes,
  unescapeHtml,
} from "./fixes.ts";

// Printable ASCII, tab, line feed and form feed, without `&`.
const PLAIN_ASCII_RE = /^[\t\n\f\x20-\x25\x27-\x7e]*$/;

// ftfy fixes lines longer than this many code points in pieces of this length.
const MAX_DECODE_LENGTH = 1_000_000;

/** The string index `count` code points after `start` (or the end). */
function codePointOffset(text: string, start: number, count: number): number {
  let index = start;
  for (let seen = 0; seen < count && index < text.length; seen += 1) {
    index += text.codePointAt(index)! > 0xffff ? 2 : 1;
  }
  return index;
}

/** Fixes one segment until it stops changing (ftfy's `fix_and_explain` loop). */
function fixSegment(segment: string, isUnescapingHtml: boolean): string {
  let text = segment;
  while (true) {
    const original = text;
    if (isUnescapingHtml) text = unescapeHtml(text);
    text = fixEncoding(text);
    text = fixC1Controls(text);
    text = fixLatinLigatures(text);
    text = fixCharacterWidth(text);
    text = uncurlQuotes(text);
    text = fixLineBreaks(text);
    text = fixSurrogates(text);
    text = removeTerminalEscapes(text);
    text = removeControlChars(text);
    text = text.normalize("NFC");
    if (text === original) return text;
  }
}

/**
 * Fixes mojibake, HTML entities, curly quotes, ligatures, fullwidth characters, line breaks and
 * stray control characters, then NFC-normalizes, exactly like ftfy's `fix_text()` with its default
 * options. The text is fixed line by line; once a line contains `<`, HTML entities are left alone
 * from there on (the text looks like HTML).
 *
 * @example
 * ```ts
 * fixText("cafÃ© &amp; ﬁne ＡＢＣ"); // "café & fine ABC"
 * ```
 */
export function fixText(text: string): string {
  // Every fixer leaves printable ASCII without `&` as it is; prompts mostly are.
  if (PLAIN_ASCII_RE.test(text)) return text;
  let isUnescapingHtml = true;
  let out = "";
  let position = 0;
  while (position < text.length) {
    const newline = text.indexOf("\n", position);
    let end = newline === -1 ? text.length : newline + 1;
    if (end - position > MAX_DECODE_LENGTH) {
      end = Math.min(end, codePointOffset(text, position, MAX_DECODE_LENGTH));
    }
    const segment = text.slice(position, end);
    if (isUnescapingHtml && segment.includes("<")) isUnescapingHtml = false;
    out += fixSegment(segment, isUnescapingHtml);
    position = end;
  }
  return out;
}
