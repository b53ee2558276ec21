/**
 * The codecs ftfy needs, on "byte strings": JavaScript strings whose code units are all below 256,
 * one per byte, so that Python's bytes regexes carry over as regexes without the `u` flag.
 *
 * - the single-byte encodings of `CHARMAP_ENCODINGS` (encode = inverse of the decoding table);
 * - strict UTF-8, as Python's `bytes.decode("utf-8")` (no BOM removal, errors throw);
 * - ftfy's "utf-8-variants": UTF-8 that also accepts CESU-8 surrogate pairs and Java's `C0 80` null.
 *
 * @module
 */

import { CHARMAP_DECODING, CHARMAP_ENCODINGS, type CharmapEncoding } from "./_charmaps.ts";

/** Thrown when bytes are not valid in the codec, like Python's `UnicodeDecodeError`. */
export class UnicodeDecodeError extends Error {
  override name = "UnicodeDecodeError";
}

/** Code point → byte, for each charmap encoding. */
const ENCODING_TABLES = new Map<CharmapEncoding, Map<number, number>>(
  CHARMAP_ENCODINGS.map((encoding) => [encoding, inverseTable(CHARMAP_DECODING[encoding])]),
);

function inverseTable(decoding: string): Map<number, number> {
  const table = new Map<number, number>();
  for (let byte = 0; byte < 256; byte += 1) {
    const code = decoding.charCodeAt(byte);
    if (!table.has(code)) table.set(code, byte);
  }
  return table;
}

/**
 * Encodes text in a single-byte encoding, as a byte string. The caller checks first that every
 * character has a byte (`possibleEncoding`); a character without one throws.
 */
export function encodeCharmap(text: string, encoding: CharmapEncoding): string {
  const table = ENCODING_TABLES.get(encoding)!;
  let bytes = "";
  for (const char of text) {
    const byte = table.get(char.codePointAt(0)!);
    if (byte === undefined) {
      throw new RangeError(`Cannot encode ${JSON.stringify(char)} in ${encoding}: it has no byte there`);
    }
    bytes += String.fromCharCode(byte);
  }
  return bytes;
}

/** Decodes a byte string in a single-byte encoding (every byte decodes). */
export function decodeCharmap(bytes: string, encoding: CharmapEncoding): string {
  const decoding = CHARMAP_DECODING[encoding];
  let text = "";
  for (let index = 0; index < bytes.length; index += 1) {
    text += decoding[bytes.charCodeAt(index)];
  }
  return text;
}

const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function toUint8Array(bytes: string): Uint8Array {
  const array = new Uint8Array(bytes.length);
  for (let index = 0; index < bytes.length; index += 1) array[index] = bytes.charCodeAt(index);
  return array;
}

/** Python's strict `bytes.decode("utf-8")`: a leading BOM is kept, invalid bytes throw. */
export function decodeUtf8(bytes: string): string {
  try {
    return STRICT_UTF8.decode(toUint8Array(bytes));
  } catch {
    throw new UnicodeDecodeError("Cannot decode bytes as UTF-8: they are not valid UTF-8");
  }
}

/** Python's `$` in a bytes pattern: the end, or just before a final newline. */
function isEnd(bytes: string, index: number): boolean {
  return index === bytes.length || (index === bytes.length - 1 && bytes.charCodeAt(index) === 0x0a);
}

function byteIn(bytes: string, index: number, low: number, high: number): boolean {
  const byte = bytes.charCodeAt(index);
  return index < bytes.length && byte >= low && byte <= high;
}

/** Whether ftfy's `SPECIAL_BYTES_RE` (Java null, CESU-8, lone surrogate) matches at `index`. */
function specialMatchAt(bytes: string, index: number): boolean {
  const byte = bytes.charCodeAt(index);
  if (byte === 0xc0) return byteIn(bytes, index + 1, 0x80, 0x80) || isEnd(bytes, index + 1);
  if (byte !== 0xed) return false;
  // The surrogate alternative `\xed([\xa0-\xbf]|$)([\x80-\xbf]|$)` matches whenever the CESU-8 one does.
  // Any of these ends in the CESU-8 decoder or in an error, so the third byte need not be checked.
  return byteIn(bytes, index + 1, 0xa0, 0xbf) || isEnd(bytes, index + 1);
}

/** ftfy's `CESU8_RE.match` at `index`, with Python's `$` at the optional positions. */
function cesu8At(bytes: string, index: number): boolean {
  const steps: [number, number][] = [
    [0xed, 0xed],
    [0xa0, 0xaf],
    [0x80, 0xbf],
    [0xed, 0xed],
    [0xb0, 0xbf],
    [0x80, 0xbf],
  ];
  let position = index;
  for (const [step, [low, high]] of steps.entries()) {
    if (byteIn(bytes, position, low, high)) {
      position += 1;
    } else if (step === 0 || !isEnd(bytes, position)) {
      return false;
    }
  }
  return true;
}

/**
 * ftfy's "utf-8-variants" decoder (`bad_codecs/utf8_variants.py`) with strict errors: standard
 * UTF-8, plus six-byte CESU-8 encodings of surrogate pairs and Java's two-byte null `C0 80`.
 * Anything else that is not UTF-8 throws {@link UnicodeDecodeError}.
 */
export function decodeUtf8Variants(bytes: string): string {
  let text = "";
  let position = 0;
  while (position < bytes.length) {
    let cutoff = position;
    while (cutoff < bytes.length && !specialMatchAt(bytes, cutoff)) cutoff += 1;
    if (cutoff > position) {
      text += decodeUtf8(bytes.slice(position, cutoff));
      position = cutoff;
      continue;
    }
    const rest = bytes.slice(position);
    if (rest.charCodeAt(0) === 0xc0) {
      if (rest.length === 1) decodeUtf8(rest);
      text += "\u0000";
      position += 2;
    } else if (rest.length >= 6 && cesu8At(rest, 0)) {
      const codePoint =
        ((rest.charCodeAt(1) & 0x0f) << 16) +
        ((rest.charCodeAt(2) & 0x3f) << 10) +
        ((rest.charCodeAt(4) & 0x0f) << 6) +
        (rest.charCodeAt(5) & 0x3f) +
        0x10000;
      text += String.fromCodePoint(codePoint);
      position += 6;
    } else {
      // A lone surrogate (or a truncated sequence): the strict UTF-8 decoder refuses it.
      decodeUtf8(rest.slice(0, 3));
      throw new UnicodeDecodeError("Cannot decode bytes as utf-8-variants: they contain a lone surrogate");
    }
  }
  return text;
}
