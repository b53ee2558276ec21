/**
 * The GPT-2 / CLIP byte ↔ character table: byte-level BPE works on strings in which every UTF-8
 * byte is one printable character, so that no byte is whitespace or a control character.
 *
 * @module
 */

/**
 * The character each byte 0..255 stands for (`bytes_to_unicode()` in openai/CLIP and transformers):
 * bytes 33-126, 161-172 and 174-255 stand for the same code point; the 68 others (0-32, 127-160,
 * 173), in increasing order, for U+0100, U+0101, ...
 *
 * @example
 * ```ts
 * BYTE_TO_UNICODE[0x41]; // "A"
 * BYTE_TO_UNICODE[0x20]; // "Ġ" (U+0120), the space
 * ```
 */
export const BYTE_TO_UNICODE: readonly string[] = buildByteToUnicode();

function isPrintableByte(byte: number): boolean {
  return (byte >= 33 && byte <= 126) || (byte >= 161 && byte <= 172) || (byte >= 174 && byte <= 255);
}

function buildByteToUnicode(): string[] {
  const table: string[] = [];
  let next = 256;
  for (let byte = 0; byte < 256; byte += 1) {
    if (isPrintableByte(byte)) {
      table[byte] = String.fromCharCode(byte);
    } else {
      table[byte] = String.fromCharCode(next);
      next += 1;
    }
  }
  return table;
}

/**
 * The inverse of {@link BYTE_TO_UNICODE}.
 *
 * @example
 * ```ts
 * UNICODE_TO_BYTE.get("Ġ"); // 32
 * ```
 */
export const UNICODE_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_UNICODE.map((char, byte) => [char, byte]));

/**
 * The byte characters in the order openai/CLIP lists them (`bytes_to_unicode().values()`): the
 * printable bytes first, then the others. They are the first 256 entries of the CLIP vocabulary.
 */
export function byteCharactersInVocabOrder(): string[] {
  const printable: string[] = [];
  const others: string[] = [];
  for (let byte = 0; byte < 256; byte += 1) {
    (isPrintableByte(byte) ? printable : others).push(BYTE_TO_UNICODE[byte]!);
  }
  return [...printable, ...others];
}

const UTF8 = new TextEncoder();

/**
 * The UTF-8 bytes of `text`, each written as its byte character.
 *
 * @example
 * ```ts
 * bytesToUnicode("é!"); // "Ã©!"
 * ```
 */
export function bytesToUnicode(text: string): string {
  let out = "";
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code >= 0x80) return bytesToUnicodeSlow(text);
    out += BYTE_TO_UNICODE[code];
  }
  return out;
}

function bytesToUnicodeSlow(text: string): string {
  let out = "";
  for (const byte of UTF8.encode(text)) out += BYTE_TO_UNICODE[byte];
  return out;
}
