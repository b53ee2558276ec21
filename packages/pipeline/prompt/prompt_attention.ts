/**
 * AUTOMATIC1111's emphasis syntax (`modules/prompt_parser.py`, `parse_prompt_attention`):
 * `(text)` ×1.1, `[text]` ÷1.1, `(text:1.5)` ×1.5, nested weights multiply, `\(` `\)` `\[` `\]` `\\`
 * are literal, unclosed brackets close at the end, and the word `BREAK` starts a new CLIP chunk.
 *
 * @module
 */

import { parsePythonFloat, PY_DIGIT, PY_SPACE, PY_WORD } from "./_python.ts";

/** A run of prompt text and its attention weight. `["BREAK", -1]` (times enclosing weights) marks a chunk break. */
export type PromptChunk = [text: string, weight: number];

/** Thrown for prompt syntax the reference parser rejects too (it raises ValueError there). */
export class PromptSyntaxError extends SyntaxError {
  override name = "PromptSyntaxError";
}

/**
 * `re_attention`: the tokens of the emphasis syntax, in priority order: escaped `\( \) \[ \]`, an
 * escaped backslash, a lone backslash, `(`, `[`, `:weight)` (spaces allowed around the number),
 * `)`, `]`, a run of other text, a lone `:`.
 */
const ATTENTION_RE = new RegExp(
  [
    "\\\\\\(",
    "\\\\\\)",
    "\\\\\\[",
    "\\\\\\]",
    "\\\\\\\\",
    "\\\\",
    "\\(",
    "\\[",
    `:[${PY_SPACE}]*([+-]?[.${PY_DIGIT}]+)[${PY_SPACE}]*\\)`,
    "\\)",
    "\\]",
    "[^\\\\()\\[\\]:]+",
    ":",
  ].join("|"),
  "gu",
);

/** `re_break`: the whole word BREAK and the whitespace around it. */
const BREAK_RE = new RegExp(`[${PY_SPACE}]*(?<!${PY_WORD})BREAK(?!${PY_WORD})[${PY_SPACE}]*`, "u");

const ROUND_BRACKET_MULTIPLIER = 1.1;
const SQUARE_BRACKET_MULTIPLIER = 1 / 1.1;

/** Python's `float()` of a `[+-]?[.\d]+` match, which fails for `.` or `1.2.3`. */
function parseWeight(weight: string, prompt: string): number {
  const value = parsePythonFloat(weight);
  if (value === null) {
    throw new PromptSyntaxError(`Cannot parse the prompt ${JSON.stringify(prompt)}: the weight ${JSON.stringify(weight)} is not a number`);
  }
  return value;
}

/** Multiplies the weights of `chunks[start..]` (A1111's `multiply_range`). */
function multiplyRange(chunks: PromptChunk[], start: number, multiplier: number): void {
  for (let index = start; index < chunks.length; index += 1) chunks[index]![1] *= multiplier;
}

/** Appends plain text, with a `["BREAK", -1]` chunk wherever the word BREAK was. */
function appendText(chunks: PromptChunk[], text: string): void {
  text.split(BREAK_RE).forEach((part, index) => {
    if (index > 0) chunks.push(["BREAK", -1]);
    chunks.push([part, 1.0]);
  });
}

/** Merges neighbours of equal weight (the reference compares floats with `==`). */
function mergeEqualWeights(chunks: PromptChunk[]): PromptChunk[] {
  const merged: PromptChunk[] = [];
  for (const chunk of chunks) {
    const last = merged.at(-1);
    if (last !== undefined && last[1] === chunk[1]) last[0] += chunk[0];
    else merged.push(chunk);
  }
  return merged;
}

/**
 * Parses A1111's emphasis syntax into `[text, weight]` runs, exactly like its
 * `parse_prompt_attention`: weights are products (in the order brackets close) of 1.1 per `( )`,
 * 1/1.1 per `[ ]` and explicit `(text:w)` numbers; unbalanced brackets are closed at the end;
 * `(a:b)` with a non-numeric `b` keeps `:b` as text; neighbours with equal weights are merged.
 * Throws {@link PromptSyntaxError} only for a `:w)` whose `w` is no number (`(a:1.2.3)`), where the
 * reference raises too.
 *
 * @example
 * ```ts
 * parsePromptAttention("a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).");
 * // [["a ", 1], ["house", 1.5730000000000004], [" ", 1.1], ["on", 1], [" a ", 1.1], ["hill", 0.55],
 * //  [", sun, ", 1.1], ["sky", 1.4641000000000006], [".", 1.1]]
 * parsePromptAttention("a BREAK b"); // [["a", 1], ["BREAK", -1], ["b", 1]]
 * ```
 */
export function parsePromptAttention(text: string): PromptChunk[] {
  const chunks: PromptChunk[] = [];
  const roundBrackets: number[] = [];
  const squareBrackets: number[] = [];
  for (const match of text.matchAll(ATTENTION_RE)) {
    const token = match[0];
    const weight = match[1];
    if (token.startsWith("\\")) {
      chunks.push([token.slice(1), 1.0]);
    } else if (token === "(") {
      roundBrackets.push(chunks.length);
    } else if (token === "[") {
      squareBrackets.push(chunks.length);
    } else if (weight !== undefined && roundBrackets.length > 0) {
      multiplyRange(chunks, roundBrackets.pop()!, parseWeight(weight, text));
    } else if (token === ")" && roundBrackets.length > 0) {
      multiplyRange(chunks, roundBrackets.pop()!, ROUND_BRACKET_MULTIPLIER);
    } else if (token === "]" && squareBrackets.length > 0) {
      multiplyRange(chunks, squareBrackets.pop()!, SQUARE_BRACKET_MULTIPLIER);
    } else {
      appendText(chunks, token);
    }
  }
  for (const start of roundBrackets) multiplyRange(chunks, start, ROUND_BRACKET_MULTIPLIER);
  for (const start of squareBrackets) multiplyRange(chunks, start, SQUARE_BRACKET_MULTIPLIER);
  if (chunks.length === 0) return [["", 1.0]];
  return mergeEqualWeights(chunks);
}
