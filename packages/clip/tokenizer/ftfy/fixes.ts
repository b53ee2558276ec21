/**
 * ftfy's individual fixers (`ftfy/fixes.py`, version 6.2), each a string → string function, and the
 * byte transcoders used while undoing mojibake (on byte strings, see codecs.ts).
 *
 * @module
 */

import { FTFY_UPPERCASE_ENTITY_PAIRS, HTML5_ENTITY_PAIRS } from "./_html_entities.ts";
import { isBad } from "./badness.ts";
import {
  ALTERED_UTF8_RE,
  C1_CONTROL_RE,
  CONTROL_CHARS_RE,
  HTML_ENTITY_RE,
  LIGATURE_RE,
  LIGATURES,
  LOSSY_UTF8_RE,
  UTF8_DETECTOR_RE,
  WIDTH_MAP,
  WIDTH_RE,
} from "./chardata.ts";
import { decodeCharmap } from "./codecs.ts";
import { htmlUnescape } from "./html_unescape.ts";

/** ftfy's `HTML_ENTITIES`: `&name;` for the HTML5 names ending in `;`, plus upper-case aliases. */
const HTML_ENTITIES = new Map<string, string>();
for (let index = 0; index < HTML5_ENTITY_PAIRS.length; index += 2) {
  const name = HTML5_ENTITY_PAIRS[index]!;
  if (name.endsWith(";")) HTML_ENTITIES.set(`&${name}`, HTML5_ENTITY_PAIRS[index + 1]!);
}
for (let index = 0; index < FTFY_UPPERCASE_ENTITY_PAIRS.length; index += 2) {
  HTML_ENTITIES.set(FTFY_UPPERCASE_ENTITY_PAIRS[index]!, FTFY_UPPERCASE_ENTITY_PAIRS[index + 1]!);
}

/**
 * Decodes HTML entities that end in a semicolon (`&eacute;`, `&#233;`, `&#xe9;`) and upper-case
 * aliases of Latin letters (`&EACUTE;`), leaving anything ambiguous alone (ftfy's `unescape_html`).
 *
 * @example
 * ```ts
 * unescapeHtml("P&eacute;rez &amp; &lt;tag&gt;"); // "Pérez & <tag>"
 * ```
 */
export function unescapeHtml(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(HTML_ENTITY_RE, (match) => {
    const named = HTML_ENTITIES.get(match);
    if (named !== undefined) return named;
    if (!match.startsWith("&#")) return match;
    // A numeric reference counts only when html.unescape decodes all of it, up to its ";".
    const unescaped = htmlUnescape(match);
    return unescaped.includes(";") ? match : unescaped;
  });
}

const ANSI_RE = /\x1b\[((?:\p{Nd}|;)*)([a-zA-Z])/gu;

/** Removes ANSI terminal escapes such as colour codes (ftfy's `remove_terminal_escapes`). */
export function removeTerminalEscapes(text: string): string {
  if (!text.includes("\x1b")) return text;
  return text.replace(ANSI_RE, "");
}

/** Replaces curly quotation marks with straight ones (ftfy's `uncurl_quotes`). */
export function uncurlQuotes(text: string): string {
  return text.replace(/[\u201c-\u201f]/g, '"').replace(/[\u02bc\u2018-\u201b]/g, "'");
}

/** Splits Latin ligatures such as `ﬁ` into their letters (ftfy's `fix_latin_ligatures`). */
export function fixLatinLigatures(text: string): string {
  return text.replace(LIGATURE_RE, (char) => LIGATURES.get(char)!);
}

/** Replaces fullwidth and halfwidth forms with standard-width ones (`fix_character_width`). */
export function fixCharacterWidth(text: string): string {
  return text.replace(WIDTH_RE, (char) => WIDTH_MAP.get(char) ?? char);
}

/** Converts CRLF, CR, U+2028, U+2029 and U+0085 to `\n` (ftfy's `fix_line_breaks`). */
export function fixLineBreaks(text: string): string {
  return text.replace(/\r\n|[\r\u2028\u2029\u0085]/g, "\n");
}

/**
 * Replaces lone UTF-16 surrogates with U+FFFD (ftfy's `fix_surrogates`). A JavaScript string
 * already reads a well-formed pair as one character, so only unpaired halves remain to fix.
 */
export function fixSurrogates(text: string): string {
  return text.replace(/[\ud800-\udfff]/gu, "\ufffd");
}

/** Removes control characters that have no displayed effect (ftfy's `remove_control_chars`). */
export function removeControlChars(text: string): string {
  return text.replace(CONTROL_CHARS_RE, "");
}

/** Reads C1 control characters as their Windows-1252 characters (ftfy's `fix_c1_controls`). */
export function fixC1Controls(text: string): string {
  return text.replace(C1_CONTROL_RE, (char) => decodeCharmap(char, "sloppy-windows-1252"));
}

// "Ã " stays a separate word "à " unless it begins a Portuguese contraction (às, àquele, ...).
const A_GRAVE_WORD_RE = /\xc3 (?! |quele|quela|quilo|s )/g;

/**
 * On a byte string: puts back bytes 0xA0 that became spaces inside UTF-8 sequences, so that they
 * decode (ftfy's `restore_byte_a0`).
 */
export function restoreByteA0(bytes: string): string {
  const kept = bytes.replace(A_GRAVE_WORD_RE, "\xc3\xa0 ");
  return kept.replace(ALTERED_UTF8_RE, (match) => match.replaceAll(" ", "\xa0"));
}

/**
 * On a byte string: replaces UTF-8 sequences that lost continuation bytes (byte 0x1A, or `?`)
 * with the UTF-8 of U+FFFD (ftfy's `replace_lossy_sequences`).
 */
export function replaceLossySequences(bytes: string): string {
  return bytes.replace(LOSSY_UTF8_RE, "\xef\xbf\xbd");
}

/**
 * Fixes runs of UTF-8 mojibake embedded in otherwise sound text, each on its own (ftfy's
 * `decode_inconsistent_utf8`). `fixEncoding` is passed in to avoid an import cycle.
 */
export function decodeInconsistentUtf8(text: string, fixEncoding: (text: string) => string): string {
  return text.replace(UTF8_DETECTOR_RE, (match) => {
    if (match.length < text.length && isBad(match)) return fixEncoding(match);
    return match;
  });
}
