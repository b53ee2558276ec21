/**
 * The character data behind ftfy's fixers (`ftfy/chardata.py`, version 6.2): which single-byte
 * encodings a text could have come from, the byte patterns of damaged UTF-8, ligatures, fullwidth
 * forms and control characters.
 *
 * @module
 */

import { CHARMAP_DECODING, CHARMAP_ENCODINGS, type CharmapEncoding } from "./_charmaps.ts";
import { UTF8_CLUES } from "./_utf8_clues.ts";

/** Escapes one code point for use inside a regex character class with the `u` flag. */
function classEscape(char: string): string {
  return `\\u{${char.codePointAt(0)!.toString(16)}}`;
}

/**
 * Per encoding: a regex matching text made only of characters that encoding has a byte for.
 * The characters of bytes 0x80-0xFF and of 0x1A (U+FFFD in the sloppy codecs), plus ASCII.
 */
const ENCODING_REGEXES = new Map<CharmapEncoding, RegExp>(
  CHARMAP_ENCODINGS.map((encoding) => {
    const decoding = CHARMAP_DECODING[encoding];
    const chars = [...decoding.slice(0x80), decoding[0x1a]!].map(classEscape).join("");
    return [encoding, new RegExp(`^[\\x00-\\x19\\x1b-\\x7f${chars}]*$`, "u")];
  }),
);

const ASCII_RE = /^[\x00-\x7f]*$/;

/**
 * Whether the text could have been decoded from this single-byte encoding, i.e. whether every
 * character of it has a byte there (ftfy's `possible_encoding`).
 */
export function possibleEncoding(text: string, encoding: CharmapEncoding | "ascii"): boolean {
  if (encoding === "ascii") return ASCII_RE.test(text);
  return ENCODING_REGEXES.get(encoding)!.test(text);
}

/** `&name;` and `&#number;` references, up to 24 characters between `&` and `;`. */
export const HTML_ENTITY_RE = /&#?[0-9A-Za-z]{1,24};/g;

/**
 * UTF-8 (on a byte string) that would be valid if a program had not turned a byte 0xA0 into a
 * plain space, for lead bytes of likely characters only (ftfy's `ALTERED_UTF8_RE`).
 */
export const ALTERED_UTF8_RE = new RegExp(
  [
    "[\\xc2\\xc3\\xc5\\xce\\xd0\\xd9][ ]",
    "[\\xe2\\xe3][ ][\\x80-\\x84\\x86-\\x9f\\xa1-\\xbf]",
    "[\\xe0-\\xe3][\\x80-\\x84\\x86-\\x9f\\xa1-\\xbf][ ]",
    "[\\xf0][ ][\\x80-\\xbf][\\x80-\\xbf]",
    "[\\xf0][\\x80-\\xbf][ ][\\x80-\\xbf]",
    "[\\xf0][\\x80-\\xbf][\\x80-\\xbf][ ]",
  ].join("|"),
  "g",
);

/**
 * UTF-8 and CESU-8 sequences (on a byte string) in which some continuation bytes were lost: byte
 * 0x1A stands for a byte that became U+FFFD, and `?` may replace one of them (`LOSSY_UTF8_RE`).
 */
export const LOSSY_UTF8_RE = new RegExp(
  [
    "[\\xc2-\\xdf][\\x1a]",
    "[\\xc2-\\xc3][?]",
    "\\xed[\\xa0-\\xaf][\\x1a?]\\xed[\\xb0-\\xbf][\\x1a?\\x80-\\xbf]",
    "\\xed[\\xa0-\\xaf][\\x1a?\\x80-\\xbf]\\xed[\\xb0-\\xbf][\\x1a?]",
    "[\\xe0-\\xef][\\x1a?][\\x1a\\x80-\\xbf]",
    "[\\xe0-\\xef][\\x1a\\x80-\\xbf][\\x1a?]",
    "[\\xf0-\\xf4][\\x1a?][\\x1a\\x80-\\xbf][\\x1a\\x80-\\xbf]",
    "[\\xf0-\\xf4][\\x1a\\x80-\\xbf][\\x1a?][\\x1a\\x80-\\xbf]",
    "[\\xf0-\\xf4][\\x1a\\x80-\\xbf][\\x1a\\x80-\\xbf][\\x1a?]",
    "\\x1a",
  ].join("|"),
  "g",
);

/** C1 control characters, which Windows code pages replace with printable ones. */
export const C1_CONTROL_RE = /[\x80-\x9f]/g;

/**
 * Runs of characters that look like UTF-8 decoded as a single-byte encoding, not preceded by a
 * character that would make the run part of a larger garble (ftfy's `UTF8_DETECTOR_RE`).
 */
export const UTF8_DETECTOR_RE = new RegExp(
  `(?<![${UTF8_CLUES.utf8ContinuationStrict}])(?:` +
    `[${UTF8_CLUES.utf8FirstOf2}][${UTF8_CLUES.utf8Continuation}]` +
    `|[${UTF8_CLUES.utf8FirstOf3}][${UTF8_CLUES.utf8Continuation}]{2}` +
    `|[${UTF8_CLUES.utf8FirstOf4}][${UTF8_CLUES.utf8Continuation}]{3}` +
    `)+`,
  "gu",
);

/** Latin ligatures and legacy digraphs, and the letters they stand for (ftfy's `LIGATURES`). */
export const LIGATURES: ReadonlyMap<string, string> = new Map([
  ["\u0132", "IJ"], // Dutch ligatures
  ["\u0133", "ij"],
  ["\u0149", "\u02bcn"], // Afrikaans digraph meant to avoid an auto-curled quote
  ["\u01f1", "DZ"], // Serbian/Croatian digraphs for Cyrillic conversion
  ["\u01f2", "Dz"],
  ["\u01f3", "dz"],
  ["\u01c4", "D\u017d"],
  ["\u01c5", "D\u017e"],
  ["\u01c6", "d\u017e"],
  ["\u01c7", "LJ"],
  ["\u01c8", "Lj"],
  ["\u01c9", "lj"],
  ["\u01ca", "NJ"],
  ["\u01cb", "Nj"],
  ["\u01cc", "nj"],
  ["\ufb00", "ff"], // Latin typographical ligatures
  ["\ufb01", "fi"],
  ["\ufb02", "fl"],
  ["\ufb03", "ffi"],
  ["\ufb04", "ffl"],
  ["\ufb05", "\u017ft"],
  ["\ufb06", "st"],
]);

/** Matches any key of {@link LIGATURES}. */
export const LIGATURE_RE = /[\u0132\u0133\u0149\u01c4-\u01cc\u01f1-\u01f3\ufb00-\ufb06]/g;

/**
 * Halfwidth and fullwidth forms (U+FF01-U+FFEF) and the ideographic space, mapped to their
 * standard-width forms by NFKC (ftfy's `WIDTH_MAP`).
 */
export const WIDTH_MAP: ReadonlyMap<string, string> = buildWidthMap();

function buildWidthMap(): Map<string, string> {
  const map = new Map<string, string>([["\u3000", " "]]);
  for (let code = 0xff01; code < 0xfff0; code += 1) {
    const char = String.fromCodePoint(code);
    const alternate = char.normalize("NFKC");
    if (alternate !== char) map.set(char, alternate);
  }
  return map;
}

/** Matches any key of {@link WIDTH_MAP}. */
export const WIDTH_RE = /[\u3000\uff01-\uffef]/g;

/**
 * Control characters with no visible effect that ftfy removes: ASCII controls other than tab, line
 * feed, form feed and carriage return, deprecated Arabic controls, interlinear annotation marks,
 * the object replacement character and the byte order mark (ftfy's `CONTROL_CHARS`).
 */
export const CONTROL_CHARS_RE = /[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc]/g;
