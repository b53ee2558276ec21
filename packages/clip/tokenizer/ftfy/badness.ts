/**
 * ftfy's mojibake heuristic (`ftfy.badness`, version 6.2): a regular expression over the few hundred
 * characters that appear when UTF-8 is decoded as a single-byte encoding, matching sequences of them
 * that are far more likely to be mojibake than intended text (an accented lower-case letter followed
 * by a currency sign, a box-drawing character next to a Latin letter, ...).
 *
 * Ported from Python. Two translations matter: Python's `\s` (str.isspace) and `\w` (letters,
 * numbers, underscore) are spelled out, because JavaScript's differ; Python's `.` is `[^\n]`.
 *
 * @module
 */

/** The characters of Python's `\s` in a `str` pattern (those where `str.isspace()` is true). */
export const PY_SPACE = "\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";

/** Python's `\w` in a `str` pattern: letters, numbers and the underscore. */
export const PY_WORD = "[\\p{L}\\p{N}_]";

/** The character categories of ftfy 6.2's badness heuristic (its `MOJIBAKE_CATEGORIES`). */
const CATEGORIES = {
  common: [
    "\u00a0", // NO-BREAK SPACE
    "\u00ad", // SOFT HYPHEN
    "\u00b7", // MIDDLE DOT
    "\u00b4", // ACUTE ACCENT
    "\u2013", // EN DASH
    "\u2014", // EM DASH
    "\u2015", // HORIZONTAL BAR
    "\u2026", // HORIZONTAL ELLIPSIS
    "\u2019", // RIGHT SINGLE QUOTATION MARK
  ].join(""),
  c1: [
    "\u0080-\u009f", // 0x80 .. 0x9f
  ].join(""),
  bad: [
    "\u00a6", // BROKEN BAR
    "\u00a4", // CURRENCY SIGN
    "\u00a8", // DIAERESIS
    "\u00ac", // NOT SIGN
    "\u00af", // MACRON
    "\u00b6", // PILCROW SIGN
    "\u00a7", // SECTION SIGN
    "\u00b8", // CEDILLA
    "\u0192", // LATIN SMALL LETTER F WITH HOOK
    "\u02c6", // MODIFIER LETTER CIRCUMFLEX ACCENT
    "\u02c7", // CARON
    "\u02d8", // BREVE
    "\u02db", // OGONEK
    "\u02dc", // SMALL TILDE
    "\u2020", // DAGGER
    "\u2021", // DOUBLE DAGGER
    "\u2030", // PER MILLE SIGN
    "\u2310", // REVERSED NOT SIGN
    "\u25ca", // LOZENGE
    "\ufffd", // REPLACEMENT CHARACTER
    "\u00aa", // FEMININE ORDINAL INDICATOR
    "\u00ba", // MASCULINE ORDINAL INDICATOR
  ].join(""),
  currency: [
    "\u00a2", // CENT SIGN
    "\u00a3", // POUND SIGN
    "\u00a5", // YEN SIGN
    "\u20a7", // PESETA SIGN
    "\u20ac", // EURO SIGN
  ].join(""),
  startPunctuation: [
    "\u00a1", // INVERTED EXCLAMATION MARK
    "\u00ab", // LEFT-POINTING DOUBLE ANGLE QUOTATION MARK
    "\u00bf", // INVERTED QUESTION MARK
    "\u00a9", // COPYRIGHT SIGN
    "\u0384", // GREEK TONOS
    "\u0385", // GREEK DIALYTIKA TONOS
    "\u2018", // LEFT SINGLE QUOTATION MARK
    "\u201a", // SINGLE LOW-9 QUOTATION MARK
    "\u201c", // LEFT DOUBLE QUOTATION MARK
    "\u201e", // DOUBLE LOW-9 QUOTATION MARK
    "\u2022", // BULLET
    "\u2039", // SINGLE LEFT-POINTING ANGLE QUOTATION MARK
    "\uf8ff", // U+F8FF
  ].join(""),
  endPunctuation: [
    "\u00ae", // REGISTERED SIGN
    "\u00bb", // RIGHT-POINTING DOUBLE ANGLE QUOTATION MARK
    "\u02dd", // DOUBLE ACUTE ACCENT
    "\u201d", // RIGHT DOUBLE QUOTATION MARK
    "\u203a", // SINGLE RIGHT-POINTING ANGLE QUOTATION MARK
    "\u2122", // TRADE MARK SIGN
  ].join(""),
  numeric: [
    "\u00b2", // SUPERSCRIPT TWO
    "\u00b3", // SUPERSCRIPT THREE
    "\u00b9", // SUPERSCRIPT ONE
    "\u00b1", // PLUS-MINUS SIGN
    "\u00bc", // VULGAR FRACTION ONE QUARTER
    "\u00bd", // VULGAR FRACTION ONE HALF
    "\u00be", // VULGAR FRACTION THREE QUARTERS
    "\u00d7", // MULTIPLICATION SIGN
    "\u00b5", // MICRO SIGN
    "\u00f7", // DIVISION SIGN
    "\u2044", // FRACTION SLASH
    "\u2202", // PARTIAL DIFFERENTIAL
    "\u2206", // INCREMENT
    "\u220f", // N-ARY PRODUCT
    "\u2211", // N-ARY SUMMATION
    "\u221a", // SQUARE ROOT
    "\u221e", // INFINITY
    "\u2229", // INTERSECTION
    "\u222b", // INTEGRAL
    "\u2248", // ALMOST EQUAL TO
    "\u2260", // NOT EQUAL TO
    "\u2261", // IDENTICAL TO
    "\u2264", // LESS-THAN OR EQUAL TO
    "\u2265", // GREATER-THAN OR EQUAL TO
    "\u2116", // NUMERO SIGN
  ].join(""),
  kaomoji: [
    "\u00d2-\u00d6", // LATIN CAPITAL LETTER O WITH GRAVE .. LATIN CAPITAL LETTER O WITH DIAERESIS
    "\u00d9-\u00dc", // LATIN CAPITAL LETTER U WITH GRAVE .. LATIN CAPITAL LETTER U WITH DIAERESIS
    "\u00f2-\u00f6", // LATIN SMALL LETTER O WITH GRAVE .. LATIN SMALL LETTER O WITH DIAERESIS
    "\u00f8-\u00fc", // LATIN SMALL LETTER O WITH STROKE .. LATIN SMALL LETTER U WITH DIAERESIS
    "\u0150", // LATIN CAPITAL LETTER O WITH DOUBLE ACUTE
    "\u00b0", // DEGREE SIGN
  ].join(""),
  upperAccented: [
    "\u00c0-\u00d1", // LATIN CAPITAL LETTER A WITH GRAVE .. LATIN CAPITAL LETTER N WITH TILDE
    "\u00d8", // LATIN CAPITAL LETTER O WITH STROKE
    "\u00dc", // LATIN CAPITAL LETTER U WITH DIAERESIS
    "\u00dd", // LATIN CAPITAL LETTER Y WITH ACUTE
    "\u0102", // LATIN CAPITAL LETTER A WITH BREVE
    "\u0104", // LATIN CAPITAL LETTER A WITH OGONEK
    "\u0106", // LATIN CAPITAL LETTER C WITH ACUTE
    "\u010c", // LATIN CAPITAL LETTER C WITH CARON
    "\u010e", // LATIN CAPITAL LETTER D WITH CARON
    "\u0110", // LATIN CAPITAL LETTER D WITH STROKE
    "\u0118", // LATIN CAPITAL LETTER E WITH OGONEK
    "\u011a", // LATIN CAPITAL LETTER E WITH CARON
    "\u011e", // LATIN CAPITAL LETTER G WITH BREVE
    "\u0130", // LATIN CAPITAL LETTER I WITH DOT ABOVE
    "\u0139", // LATIN CAPITAL LETTER L WITH ACUTE
    "\u013d", // LATIN CAPITAL LETTER L WITH CARON
    "\u0141", // LATIN CAPITAL LETTER L WITH STROKE
    "\u0143", // LATIN CAPITAL LETTER N WITH ACUTE
    "\u0147", // LATIN CAPITAL LETTER N WITH CARON
    "\u0152", // LATIN CAPITAL LIGATURE OE
    "\u0158", // LATIN CAPITAL LETTER R WITH CARON
    "\u015a", // LATIN CAPITAL LETTER S WITH ACUTE
    "\u015e", // LATIN CAPITAL LETTER S WITH CEDILLA
    "\u0160", // LATIN CAPITAL LETTER S WITH CARON
    "\u0162", // LATIN CAPITAL LETTER T WITH CEDILLA
    "\u0164", // LATIN CAPITAL LETTER T WITH CARON
    "\u016e", // LATIN CAPITAL LETTER U WITH RING ABOVE
    "\u0170", // LATIN CAPITAL LETTER U WITH DOUBLE ACUTE
    "\u0178", // LATIN CAPITAL LETTER Y WITH DIAERESIS
    "\u0179", // LATIN CAPITAL LETTER Z WITH ACUTE
    "\u017b", // LATIN CAPITAL LETTER Z WITH DOT ABOVE
    "\u017d", // LATIN CAPITAL LETTER Z WITH CARON
    "\u0490", // CYRILLIC CAPITAL LETTER GHE WITH UPTURN
  ].join(""),
  lowerAccented: [
    "\u00df", // LATIN SMALL LETTER SHARP S
    "\u00e0-\u00f1", // LATIN SMALL LETTER A WITH GRAVE .. LATIN SMALL LETTER N WITH TILDE
    "\u0103", // LATIN SMALL LETTER A WITH BREVE
    "\u0105", // LATIN SMALL LETTER A WITH OGONEK
    "\u0107", // LATIN SMALL LETTER C WITH ACUTE
    "\u010d", // LATIN SMALL LETTER C WITH CARON
    "\u010f", // LATIN SMALL LETTER D WITH CARON
    "\u0111", // LATIN SMALL LETTER D WITH STROKE
    "\u0119", // LATIN SMALL LETTER E WITH OGONEK
    "\u011b", // LATIN SMALL LETTER E WITH CARON
    "\u011f", // LATIN SMALL LETTER G WITH BREVE
    "\u013a", // LATIN SMALL LETTER L WITH ACUTE
    "\u013e", // LATIN SMALL LETTER L WITH CARON
    "\u0142", // LATIN SMALL LETTER L WITH STROKE
    "\u0153", // LATIN SMALL LIGATURE OE
    "\u0155", // LATIN SMALL LETTER R WITH ACUTE
    "\u015b", // LATIN SMALL LETTER S WITH ACUTE
    "\u015f", // LATIN SMALL LETTER S WITH CEDILLA
    "\u0161", // LATIN SMALL LETTER S WITH CARON
    "\u0165", // LATIN SMALL LETTER T WITH CARON
    "\u00fc", // LATIN SMALL LETTER U WITH DIAERESIS
    "\u017a", // LATIN SMALL LETTER Z WITH ACUTE
    "\u017c", // LATIN SMALL LETTER Z WITH DOT ABOVE
    "\u017e", // LATIN SMALL LETTER Z WITH CARON
    "\u0491", // CYRILLIC SMALL LETTER GHE WITH UPTURN
    "\ufb01", // LATIN SMALL LIGATURE FI
    "\ufb02", // LATIN SMALL LIGATURE FL
  ].join(""),
  upperCommon: [
    "\u00de", // LATIN CAPITAL LETTER THORN
    "\u0391-\u03a9", // GREEK CAPITAL LETTER ALPHA .. GREEK CAPITAL LETTER OMEGA
    "\u0386", // GREEK CAPITAL LETTER ALPHA WITH TONOS
    "\u0388", // GREEK CAPITAL LETTER EPSILON WITH TONOS
    "\u0389", // GREEK CAPITAL LETTER ETA WITH TONOS
    "\u038a", // GREEK CAPITAL LETTER IOTA WITH TONOS
    "\u038c", // GREEK CAPITAL LETTER OMICRON WITH TONOS
    "\u038e", // GREEK CAPITAL LETTER UPSILON WITH TONOS
    "\u038f", // GREEK CAPITAL LETTER OMEGA WITH TONOS
    "\u03aa", // GREEK CAPITAL LETTER IOTA WITH DIALYTIKA
    "\u03ab", // GREEK CAPITAL LETTER UPSILON WITH DIALYTIKA
    "\u0401-\u042f", // CYRILLIC CAPITAL LETTER IO .. CYRILLIC CAPITAL LETTER YA
  ].join(""),
  lowerCommon: [
    "\u03b1-\u03c9", // GREEK SMALL LETTER ALPHA .. GREEK SMALL LETTER OMEGA
    "\u03ac", // GREEK SMALL LETTER ALPHA WITH TONOS
    "\u03ad", // GREEK SMALL LETTER EPSILON WITH TONOS
    "\u03ae", // GREEK SMALL LETTER ETA WITH TONOS
    "\u03af", // GREEK SMALL LETTER IOTA WITH TONOS
    "\u03b0", // GREEK SMALL LETTER UPSILON WITH DIALYTIKA AND TONOS
    "\u0430-\u045f", // CYRILLIC SMALL LETTER A .. CYRILLIC SMALL LETTER DZHE
  ].join(""),
  box: [
    "\u2502", // BOX DRAWINGS LIGHT VERTICAL
    "\u250c", // BOX DRAWINGS LIGHT DOWN AND RIGHT
    "\u2510", // BOX DRAWINGS LIGHT DOWN AND LEFT
    "\u2518", // BOX DRAWINGS LIGHT UP AND LEFT
    "\u251c", // BOX DRAWINGS LIGHT VERTICAL AND RIGHT
    "\u2524", // BOX DRAWINGS LIGHT VERTICAL AND LEFT
    "\u252c", // BOX DRAWINGS LIGHT DOWN AND HORIZONTAL
    "\u253c", // BOX DRAWINGS LIGHT VERTICAL AND HORIZONTAL
    "\u2550-\u256c", // BOX DRAWINGS DOUBLE HORIZONTAL .. BOX DRAWINGS DOUBLE VERTICAL AND HORIZONTAL
    "\u2580", // UPPER HALF BLOCK
    "\u2584", // LOWER HALF BLOCK
    "\u2588", // FULL BLOCK
    "\u258c", // LEFT HALF BLOCK
    "\u2590", // RIGHT HALF BLOCK
    "\u2591", // LIGHT SHADE
    "\u2592", // MEDIUM SHADE
    "\u2593", // DARK SHADE
  ].join(""),
};

const c = CATEGORIES;

/** The alternatives of ftfy's `BADNESS_RE`, in its order. */
const BADNESS_ALTERNATIVES = [
  `[${c.c1}]`,
  `[${c.bad}${c.lowerAccented}${c.upperAccented}${c.box}${c.startPunctuation}${c.endPunctuation}${c.currency}${c.numeric}][${c.bad}]`,
  `[a-zA-Z][${c.lowerCommon}${c.upperCommon}][${c.bad}]`,
  `[${c.bad}][${c.lowerAccented}${c.upperAccented}${c.box}${c.startPunctuation}${c.endPunctuation}${c.currency}${c.numeric}]`,
  `[${c.lowerAccented}${c.lowerCommon}${c.box}${c.endPunctuation}${c.currency}${c.numeric}][${c.upperAccented}]`,
  `[${c.box}${c.endPunctuation}${c.currency}${c.numeric}][${c.lowerAccented}]`,
  // [upper_accented][currency] is left out without further context: it shows up in leetspeak.
  `[${c.lowerAccented}${c.box}${c.endPunctuation}][${c.currency}]`,
  `[${PY_SPACE}][${c.upperAccented}][${c.currency}]`,
  `[${c.upperAccented}${c.box}][${c.numeric}]`,
  `[${c.lowerAccented}${c.upperAccented}${c.box}${c.currency}${c.endPunctuation}][${c.startPunctuation}][${c.numeric}]`,
  `[${c.lowerAccented}${c.upperAccented}${c.currency}${c.numeric}${c.box}][${c.endPunctuation}][${c.startPunctuation}]`,
  `[${c.currency}${c.numeric}${c.box}][${c.startPunctuation}]`,
  `[a-z][${c.upperAccented}][${c.startPunctuation}${c.currency}]`,
  `[${c.box}][${c.kaomoji}]`,
  `[${c.lowerAccented}${c.upperAccented}${c.currency}${c.numeric}${c.startPunctuation}${c.endPunctuation}][${c.box}]`,
  `[${c.box}][${c.endPunctuation}]`,
  `[${c.lowerAccented}${c.upperAccented}][${c.endPunctuation}]${PY_WORD}`,
  // The ligature œ when not followed by an unaccented Latin letter.
  `[Œœ][^A-Za-z]`,
  // Common Windows-1252 two-character mojibake that the cases above miss.
  `[ÂÃÎÐ][€Šš¢£Ÿž\\u00a0\\u00ad®©°·»${c.startPunctuation}${c.endPunctuation}–—´]`,
  `×[²³]`,
  // Windows-1252 mojibake of Arabic words includes the 'common' characters, so it takes four.
  `[ØÙ][${c.common}${c.currency}${c.bad}${c.numeric}${c.startPunctuation}ŸŠ®°µ»]` +
    `[ØÙ][${c.common}${c.currency}${c.bad}${c.numeric}${c.startPunctuation}ŸŠ®°µ»]`,
  // Windows-1252 mojibake that starts three-character sequences of some South Asian alphabets.
  `à[²µ¹¼½¾]`,
  // MacRoman mojibake the cases above miss.
  `√[±∂†≠®™´≤≥¥µø]`,
  `≈[°¢]`,
  `‚Ä[ìîïòôúùû†°¢π]`,
  `‚[âó][àä°ê]`,
  // Windows-1251 mojibake of characters in the U+2000 range.
  `вЂ`,
  // Windows-1251 mojibake of Latin-1 characters and/or Cyrillic; two characters are too common.
  `[ВГРС][${c.c1}${c.bad}${c.startPunctuation}${c.endPunctuation}${c.currency}°µ][ВГРС]`,
  // Windows-1251 mojibake on top of Latin-1 mojibake of Windows-1252, next to a Latin letter.
  `ГўВЂВ[^\\n][A-Za-z ]`,
  // Windows-1252 encodings of 'à' and 'á', and of U+00A0 itself.
  `Ã[\\u00a0¡]`,
  `[a-z][${PY_SPACE}]?[ÃÂ][ ]`,
  `^[ÃÂ][ ]`,
  // Â before a common character as an encoding of exactly that character.
  `[a-z.,?!${c.endPunctuation}]Â[ ${c.startPunctuation}${c.endPunctuation}]`,
  // Windows-1253 mojibake of characters in the U+2000 range.
  `β€[™\\u00a0Ά\\u00ad®°]`,
  // Windows-1253 mojibake of Latin-1 characters and/or the Greek alphabet.
  `[ΒΓΞΟ][${c.c1}${c.bad}${c.startPunctuation}${c.endPunctuation}${c.currency}°][ΒΓΞΟ]`,
];

const BADNESS_RE = new RegExp(BADNESS_ALTERNATIVES.join("|"), "u");
const BADNESS_RE_GLOBAL = new RegExp(BADNESS_RE.source, "gu");

/**
 * Whether the text looks like it contains mojibake: true as soon as one unlikely sequence is found
 * (ftfy's `is_bad`).
 *
 * @example
 * ```ts
 * isBad("cafÃ©"); // true
 * isBad("café"); // false
 * ```
 */
export function isBad(text: string): boolean {
  return BADNESS_RE.test(text);
}

/**
 * The number of unlikely character sequences in the text (ftfy's `badness`); above 0 means that
 * some of it seems to be mojibake.
 *
 * @example
 * ```ts
 * badness("â€œquotedâ€\u009d"); // 2 or more
 * ```
 */
export function badness(text: string): number {
  return text.match(BADNESS_RE_GLOBAL)?.length ?? 0;
}
