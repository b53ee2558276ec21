/**
 * Decoding the text arguments of protocol 0 opcodes (INT, LONG, FLOAT, STRING, UNICODE): rare in
 * checkpoints, which use protocol 2, but part of every protocol the machine accepts.
 *
 * @module
 */

import { TorchCheckpointError } from "../errors.ts";
import { normalizeInt } from "./pickle_reader.ts";

function corrupt(what: string, text: string): TorchCheckpointError {
  return new TorchCheckpointError("corrupt_pickle", `Cannot read the pickle: ${what} ${JSON.stringify(text.slice(0, 40))} is not valid`);
}

/** INT's argument: a decimal integer, or "00"/"01" for False/True. */
export function parseIntLine(text: string): number | bigint | boolean {
  if (text === "00") return false;
  if (text === "01") return true;
  if (!/^[+-]?\d+$/.test(text)) throw corrupt("INT", text);
  return normalizeInt(BigInt(text));
}

/** LONG's argument: a decimal integer with an optional trailing L. */
export function parseLongLine(text: string): number | bigint {
  const digits = text.endsWith("L") ? text.slice(0, -1) : text;
  if (!/^[+-]?\d+$/.test(digits)) throw corrupt("LONG", text);
  return normalizeInt(BigInt(digits));
}

/** FLOAT's argument: Python's repr of a float. */
export function parseFloatLine(text: string): number {
  const trimmed = text.trim();
  if (/^[+-]?inf$/i.test(trimmed)) return trimmed.startsWith("-") ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(trimmed)) return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(trimmed)) throw corrupt("FLOAT", text);
  return Number(trimmed);
}

const SIMPLE_ESCAPES: Record<string, string> = {
  "\\": "\\",
  "'": "'",
  '"': '"',
  n: "\n",
  t: "\t",
  r: "\r",
  a: "\x07",
  b: "\b",
  f: "\f",
  v: "\v",
  "0": "\0",
};

/** STRING's argument: a quoted Python 2 str literal with backslash escapes, as bytes in latin1. */
export function parseStringLine(text: string): string {
  const quote = text[0];
  if (text.length < 2 || (quote !== "'" && quote !== '"') || text[text.length - 1] !== quote) throw corrupt("STRING", text);
  const body = text.slice(1, -1);
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const char = body[i]!;
    if (char !== "\\") {
      out += char;
      continue;
    }
    const next = body[++i];
    if (next === undefined) throw corrupt("STRING", text);
    if (next === "x") {
      const hex = body.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw corrupt("STRING", text);
      out += String.fromCharCode(parseInt(hex, 16));
      i += 2;
    } else if (next in SIMPLE_ESCAPES) {
      out += SIMPLE_ESCAPES[next];
    } else {
      out += `\\${next}`;
    }
  }
  return out;
}

/** UNICODE's argument: raw-unicode-escape (latin1 bytes with \uXXXX and \UXXXXXXXX escapes). */
export function parseUnicodeLine(text: string): string {
  return text.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_match, short: string | undefined, long: string | undefined) => {
    const code = parseInt((short ?? long)!, 16);
    if (code > 0x10ffff) throw corrupt("UNICODE", text);
    return String.fromCodePoint(code);
  });
}
