import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { type PromptChunk, parsePromptAttention, PromptSyntaxError } from "./prompt_attention.ts";

test("parsePromptAttention gives the results of A1111's doctests", () => {
  assert.deepEqual(parsePromptAttention("normal text"), [["normal text", 1.0]]);
  assert.deepEqual(parsePromptAttention("an (important) word"), [
    ["an ", 1.0],
    ["important", 1.1],
    [" word", 1.0],
  ]);
  assert.deepEqual(parsePromptAttention("(unbalanced"), [["unbalanced", 1.1]]);
  assert.deepEqual(parsePromptAttention("\\(literal\\]"), [["(literal]", 1.0]]);
  assert.deepEqual(parsePromptAttention("(unnecessary)(parens)"), [["unnecessaryparens", 1.1]]);
  assert.deepEqual(parsePromptAttention("a (((house:1.3)) [on] a (hill:0.5), sun, (((sky)))."), [
    ["a ", 1.0],
    ["house", 1.5730000000000004],
    [" ", 1.1],
    ["on", 1.0],
    [" a ", 1.1],
    ["hill", 0.55],
    [", sun, ", 1.1],
    ["sky", 1.4641000000000006],
    [".", 1.1],
  ]);
  assert.deepEqual(parsePromptAttention(""), [["", 1.0]]);
  assert.deepEqual(parsePromptAttention("()"), [["", 1.0]]);
});

test("parsePromptAttention splits on the word BREAK only, and weights the marker like its text", () => {
  assert.deepEqual(parsePromptAttention("a BREAK b"), [
    ["a", 1.0],
    ["BREAK", -1],
    ["b", 1.0],
  ]);
  assert.deepEqual(parsePromptAttention("BREAKfast BREAK_x \u00e9BREAK BREAK"), [
    ["BREAKfast BREAK_x \u00e9BREAK", 1.0],
    ["BREAK", -1],
    ["", 1.0],
  ]);
  assert.deepEqual(parsePromptAttention("a (b BREAK c:1.2) d"), [
    ["a ", 1.0],
    ["b", 1.2],
    ["BREAK", -1.2],
    ["c", 1.2],
    [" d", 1.0],
  ]);
});

test("parsePromptAttention reads weights like Python's float(): spaces, signs, digits of any script", () => {
  assert.deepEqual(parsePromptAttention("(cat: 1.3) (dog :.5 ) (x:-1) (y:+2) (z:7.)"), [
    ["cat", 1.3],
    [" ", 1.0],
    ["dog ", 0.5],
    [" ", 1.0],
    ["x", -1.0],
    [" ", 1.0],
    ["y", 2.0],
    [" ", 1.0],
    ["z", 7.0],
  ]);
  assert.deepEqual(parsePromptAttention("(cat:\u0661.\u0665)"), [["cat", 1.5]]);
  assert.deepEqual(parsePromptAttention("(c:1e2)"), [["c:1e2", 1.1]]);
  assert.deepEqual(parsePromptAttention("a:1.5) b"), [["a:1.5) b", 1.0]]);
  assert.throws(() => parsePromptAttention("(cat:1.2.3)"), PromptSyntaxError);
  assert.throws(() => parsePromptAttention("(cat:.)"), /the weight "\." is not a number/);
});

/** A prompt as a tree: the string it renders to, and the (character, weight) runs it must parse to. */
interface Rendered {
  text: string;
  /** Each visible character (or "\u0000BREAK" for a marker) and its multipliers, innermost first. */
  chars: { char: string; multipliers: number[] }[];
}

const WEIGHTS = [0.5, 1.2, 1.5, 2, 0.3, 0.9];

function leafArbitrary(): fc.Arbitrary<Rendered> {
  const word = fc.stringMatching(/^[a-z][a-z ,.!']{0,6}[a-z]$|^[a-z]$/).map(
    (text): Rendered => ({
      text,
      chars: [...text].map((char) => ({ char, multipliers: [] })),
    }),
  );
  const escaped = fc.constantFrom("\\(", "\\)", "\\[", "\\]", "\\\\").map(
    (text): Rendered => ({
      text,
      chars: [{ char: text[1]!, multipliers: [] }],
    }),
  );
  const breakWord = fc.constant<Rendered>({ text: " BREAK ", chars: [{ char: "\u0000BREAK", multipliers: [] }] });
  return fc.oneof({ weight: 4, arbitrary: word }, { weight: 1, arbitrary: escaped }, { weight: 1, arbitrary: breakWord });
}

const tree = fc.letrec<{ node: Rendered; group: Rendered; sequence: Rendered }>((tie) => ({
  node: fc.oneof({ depthSize: "small", withCrossShrink: true }, leafArbitrary(), tie("group")),
  group: fc
    .tuple(fc.constantFrom("round", "square", "weighted"), fc.constantFrom(...WEIGHTS), tie("sequence"))
    .map(([kind, weight, inner]): Rendered => {
      const multiplier = kind === "round" ? 1.1 : kind === "square" ? 1 / 1.1 : weight;
      const text = kind === "round" ? `(${inner.text})` : kind === "square" ? `[${inner.text}]` : `(${inner.text}:${weight})`;
      return { text, chars: inner.chars.map(({ char, multipliers }) => ({ char, multipliers: [...multipliers, multiplier] })) };
    }),
  sequence: fc.array(tie("node"), { minLength: 1, maxLength: 4 }).map(
    (nodes): Rendered => ({
      text: nodes.map((n) => n.text).join(""),
      chars: nodes.flatMap((n) => n.chars),
    }),
  ),
}));

/** Chunks as (character, weight) pairs, markers as one entry: merging does not change these. */
function perCharacter(chunks: readonly PromptChunk[]): [string, number][] {
  return chunks.flatMap(([text, weight]): [string, number][] =>
    text === "BREAK" && weight < 0 ? [["\u0000BREAK", -weight]] : [...text].map((char) => [char, weight]),
  );
}

test("parsePromptAttention weights every character by the product of its brackets, innermost first", () => {
  fc.assert(
    fc.property(tree.sequence, (rendered) => {
      // The reference multiplies as brackets close: ((1 × inner) × middle) × outer.
      const expected = rendered.chars.map(({ char, multipliers }): [string, number] => [char, multipliers.reduce((w, m) => w * m, 1.0)]);
      const chunks = parsePromptAttention(rendered.text);
      const nonEmpty = perCharacter(chunks);
      assert.deepEqual(nonEmpty, expected);
      for (let i = 0; i + 1 < chunks.length; i += 1)
        assert.notEqual(chunks[i]![1], chunks[i + 1]![1], "neighbours of equal weight are merged");
    }),
    { numRuns: 1000 },
  );
});

test("parsePromptAttention never throws on arbitrary text except for a weight that is not a number", () => {
  const syntax = fc.constantFrom("(", ")", "[", "]", ":", "\\", "BREAK", " ", ".", "1", "-", "+", "a", "\u0661", "\n");
  const text = fc.oneof(
    fc.string({ unit: "grapheme", maxLength: 30 }),
    fc.array(syntax, { maxLength: 30 }).map((parts) => parts.join("")),
  );
  fc.assert(
    fc.property(text, (prompt) => {
      try {
        const chunks = parsePromptAttention(prompt);
        assert.ok(chunks.length >= 1);
      } catch (error) {
        assert.ok(error instanceof PromptSyntaxError);
        assert.match(prompt, /:[\s]*[+-]?[.\p{Nd}]+[\s]*\)/u);
      }
    }),
    { numRuns: 2000 },
  );
});

test("parsePromptAttention returns text without brackets unchanged as one run of weight 1", () => {
  fc.assert(
    fc.property(fc.stringMatching(/^[^()[\]\\:]*$/), (text) => {
      fc.pre(!/(?<![\p{L}\p{N}_])BREAK(?![\p{L}\p{N}_])/u.test(text));
      assert.deepEqual(parsePromptAttention(text), [[text, 1.0]]);
    }),
    { numRuns: 500 },
  );
});
