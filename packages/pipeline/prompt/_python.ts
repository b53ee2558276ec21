// Python semantics the A1111 parsers rely on: `\s`, `\w` and `\d` of a `str` pattern (Unicode, and
// not JavaScript's), and what `float()` / `int()` accept.

/** Character-class contents of Python's `\s` in a `str` pattern (`str.isspace()`). */
export const PY_SPACE = "\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";

/** Python's `\w` in a `str` pattern: letters, numbers and the underscore. */
export const PY_WORD = "[\\p{L}\\p{N}_]";

/** Python's `\d` in a `str` pattern: any decimal digit (Unicode category Nd). */
export const PY_DIGIT = "\\p{Nd}";

const DECIMAL_DIGIT = /\p{Nd}/u;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the class is every non-ASCII code point, from \x00 up
const NON_ASCII_DIGITS = /[^\x00-\x7f]/gu;
// float() and int() strip ASCII whitespace and non-ASCII Unicode whitespace, but not \x1c-\x1f.
const NUMBER_SPACE = "\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const NUMBER_SPACE_EDGES = new RegExp(`^[${NUMBER_SPACE}]+|[${NUMBER_SPACE}]+$`, "gu");

/**
 * The value 0-9 of a decimal digit of any script. Unicode encodes every Nd digit in a run of ten
 * consecutive code points from 0 to 9, so the value is the distance to the start of its run.
 */
function digitValue(char: string): number {
  let code = char.codePointAt(0)!;
  let steps = 0;
  while (DECIMAL_DIGIT.test(String.fromCodePoint(code - 1))) {
    code -= 1;
    steps += 1;
  }
  return steps % 10;
}

/** Replaces decimal digits of other scripts by ASCII ones, as Python's number parsing does. */
function asciiDigits(text: string): string {
  return text.replace(NON_ASCII_DIGITS, (char) => (DECIMAL_DIGIT.test(char) ? String(digitValue(char)) : char));
}

const FLOAT_RE = /^[+-]?(?:(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?|inf(?:inity)?|nan)$/i;
const INT_RE = /^[+-]?\d(?:_?\d)*$/;

/** Python's `float(text)`, or null where Python raises ValueError. */
export function parsePythonFloat(text: string): number | null {
  const stripped = asciiDigits(text.replace(NUMBER_SPACE_EDGES, ""));
  if (!FLOAT_RE.test(stripped)) return null;
  const plain = stripped.replaceAll("_", "").toLowerCase();
  const sign = plain.startsWith("-") ? -1 : 1;
  const unsigned = plain.replace(/^[+-]/, "");
  if (unsigned === "nan") return Number.NaN;
  if (unsigned === "inf" || unsigned === "infinity") return sign * Number.POSITIVE_INFINITY;
  return Number(plain);
}

/** Python's `int(text)` (base 10), or null where Python raises ValueError. */
export function parsePythonInt(text: string): number | null {
  const stripped = asciiDigits(text.replace(NUMBER_SPACE_EDGES, ""));
  if (!INT_RE.test(stripped)) return null;
  return Number(stripped.replaceAll("_", ""));
}
