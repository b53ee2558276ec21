/**
 * Detects and undoes mojibake (ftfy's `fix_encoding`, version 6.2): text that was encoded as UTF-8
 * and decoded as a single-byte encoding is encoded back and decoded as UTF-8, one step at a time,
 * while the heuristic still sees mojibake.
 *
 * @module
 */

import { CHARMAP_ENCODINGS, type CharmapEncoding, WINDOWS_1252_UNDEFINED_BYTES } from "./_charmaps.ts";
import { isBad } from "./badness.ts";
import { ALTERED_UTF8_RE, C1_CONTROL_RE, possibleEncoding, UTF8_DETECTOR_RE } from "./chardata.ts";
import { decodeCharmap, decodeUtf8, decodeUtf8Variants, encodeCharmap, UnicodeDecodeError } from "./codecs.ts";
import { decodeInconsistentUtf8, fixC1Controls, replaceLossySequences, restoreByteA0 } from "./fixes.ts";

function test(regex: RegExp, text: string): boolean {
  regex.lastIndex = 0;
  return regex.test(text);
}

/** Encodes in `encoding`, repairs the bytes like ftfy does, and decodes as UTF-8; throws if that fails. */
function reencodeAsUtf8(text: string, encoding: CharmapEncoding): string {
  let bytes = encodeCharmap(text, encoding);
  // An en dash followed by a space is common in MacRoman text, so 0xA0 is not restored there.
  if (encoding !== "macroman" && test(ALTERED_UTF8_RE, bytes)) {
    bytes = restoreByteA0(bytes);
  }
  if (encoding.startsWith("sloppy")) {
    bytes = replaceLossySequences(bytes);
  }
  if (bytes.includes("\xed") || bytes.includes("\xc0")) {
    return decodeUtf8Variants(bytes);
  }
  return decodeUtf8(bytes);
}

/** Python's strict `text.encode("latin-1").decode("windows-1252")`, or null when that fails. */
function latin1AsWindows1252(text: string): string | null {
  let fixed = "";
  for (const char of text) {
    const byte = char.codePointAt(0)!;
    if (WINDOWS_1252_UNDEFINED_BYTES.includes(byte)) return null;
    // The real codec keeps ASCII (0x1A too, which only the sloppy one reads as U+FFFD).
    fixed += byte < 0x80 ? char : decodeCharmap(char, "sloppy-windows-1252");
  }
  return fixed;
}

/** One step of ftfy's `_fix_encoding_one_step_and_explain`; returns the text unchanged when done. */
function fixEncodingOneStep(text: string): string {
  if (text.length === 0) return text;
  if (possibleEncoding(text, "ascii") || !isBad(text)) return text;

  // First plan: the text was UTF-8 decoded as a single-byte encoding.
  const possible: CharmapEncoding[] = [];
  for (const encoding of CHARMAP_ENCODINGS) {
    if (!possibleEncoding(text, encoding)) continue;
    possible.push(encoding);
    try {
      return reencodeAsUtf8(text, encoding);
    } catch (error) {
      if (!(error instanceof UnicodeDecodeError)) throw error;
    }
  }

  // Runs of mojibake inside otherwise consistent text are fixed one by one.
  if (test(UTF8_DETECTOR_RE, text)) {
    const fixed = decodeInconsistentUtf8(text, fixEncoding);
    if (fixed !== text) return fixed;
  }

  // Latin-1 with C1 controls was probably meant as Windows-1252. (ftfy also checks for a plain
  // "windows-1252" among the possible encodings, which its list never holds.)
  if (possible.includes("latin-1")) {
    const fixed = latin1AsWindows1252(text);
    if (fixed !== null && fixed !== text) return fixed;
  }

  if (test(C1_CONTROL_RE, text)) return fixC1Controls(text);
  return text;
}

/**
 * Undoes mojibake: repeats ftfy's encoding fix until the text stops changing.
 *
 * @example
 * ```ts
 * fixEncoding("cafÃ© crÃ¨me"); // "café crème"
 * fixEncoding("â€œquotedâ€\u009d"); // "“quoted”"
 * ```
 */
export function fixEncoding(text: string): string {
  let current = text;
  while (true) {
    const next = fixEncodingOneStep(current);
    if (next === current) return current;
    current = next;
  }
}
