/**
 * Python's `html.unescape`: every named and numeric character reference of HTML5, with the
 * standard's rules for references without `;` and for invalid code points. openai/CLIP applies it
 * twice after ftfy; ftfy itself uses it for numeric references.
 *
 * @module
 */

import { HTML5_ENTITY_PAIRS, INVALID_CHARREFS, INVALID_CODEPOINTS } from "./_html_entities.ts";

/** `html.entities.html5`: name (without `&`, with `;` when it has one) → replacement. */
const HTML5 = new Map<string, string>();
for (let index = 0; index < HTML5_ENTITY_PAIRS.length; index += 2) {
  HTML5.set(HTML5_ENTITY_PAIRS[index]!, HTML5_ENTITY_PAIRS[index + 1]!);
}

/** `html._charref`: decimal, hexadecimal or named references, `;` optional. */
const CHARREF_RE = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;

function replaceNumeric(reference: string): string {
  const isHex = reference[1] === "x" || reference[1] === "X";
  const digits = reference.slice(isHex ? 2 : 1).replace(/;$/, "");
  const code = Number.parseInt(digits, isHex ? 16 : 10);
  const invalid = INVALID_CHARREFS.get(code);
  if (invalid !== undefined) return invalid;
  if ((code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) return "\ufffd";
  if (INVALID_CODEPOINTS.has(code)) return "";
  return String.fromCodePoint(code);
}

function replaceNamed(reference: string): string {
  const exact = HTML5.get(reference);
  if (exact !== undefined) return exact;
  // The longest name that is a prefix (the standard's references without ";", such as "&ampx").
  for (let length = reference.length - 1; length > 1; length -= 1) {
    const prefix = HTML5.get(reference.slice(0, length));
    if (prefix !== undefined) return prefix + reference.slice(length);
  }
  return `&${reference}`;
}

/**
 * Decodes HTML character references like Python's `html.unescape`.
 *
 * @example
 * ```ts
 * htmlUnescape("&lt;b&gt; &amp;amp; &#233; &eacutex"); // "<b> &amp; é éx"
 * ```
 */
export function htmlUnescape(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(CHARREF_RE, (_match, reference: string) =>
    reference.startsWith("#") ? replaceNumeric(reference) : replaceNamed(reference),
  );
}
