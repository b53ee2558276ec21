import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { END_OF_TEXT, pretokenize, splitOnSpecialTokens, START_OF_TEXT } from "./pretokenize.ts";

const SPECIAL = [START_OF_TEXT, END_OF_TEXT];

test("pretokenize splits words, single digits, contractions and punctuation runs", () => {
  assert.deepEqual(pretokenize("masterpiece, best quality, (cat:1.2)"), [
    "masterpiece",
    ",",
    "best",
    "quality",
    ",",
    "(",
    "cat",
    ":",
    "1",
    ".",
    "2",
    ")",
  ]);
  assert.deepEqual(pretokenize("don't stop, it's 42!!!"), ["don", "'t", "stop", ",", "it", "'s", "4", "2", "!!!"]);
  assert.deepEqual(pretokenize("caf\u00e9 \u6771\u4eac \u{1f431}"), ["caf\u00e9", "\u6771\u4eac", "\u{1f431}"]);
  assert.deepEqual(pretokenize("a<|endoftext|>b"), ["a", "<|endoftext|>", "b"]);
  assert.deepEqual(pretokenize(""), []);
});

test("pretokenize matches contractions case-insensitively and drops U+0345 like Python's regex", () => {
  // Python: regex.findall(pattern, "it'\u017f", flags=IGNORECASE) == ["it", "'\u017f"]
  assert.deepEqual(pretokenize("it'\u017f"), ["it", "'\u017f"]);
  // Python: ["a", "b"] and ["!", "!"]: U+0345 matches no alternative there.
  assert.deepEqual(pretokenize("a\u0345b"), ["a", "b"]);
  assert.deepEqual(pretokenize("!\u0345!"), ["!", "!"]);
});

test("pretokenize covers every character that is not whitespace", () => {
  fc.assert(
    fc.property(fc.string({ unit: "grapheme", maxLength: 30 }), (text) => {
      const joined = pretokenize(text).join("");
      // biome-ignore lint/suspicious/noMisleadingCharacterClass: U+0345 is listed on its own (Python counts it as whitespace), not as a combining mark
      const expected = text.replace(/[\t\n\v\f\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0345]/g, "");
      return joined === expected;
    }),
    { numRuns: 500 },
  );
});

test("splitOnSpecialTokens cuts around exact special tokens and keeps the rest whole", () => {
  assert.deepEqual(splitOnSpecialTokens("!!<|endoftext|>x", SPECIAL), ["!!", "<|endoftext|>", "x"]);
  assert.deepEqual(splitOnSpecialTokens("<|startoftext|>a b<|endoftext|>", SPECIAL), ["<|startoftext|>", "a b", "<|endoftext|>"]);
  assert.deepEqual(splitOnSpecialTokens("<|ENDOFTEXT|> <|endof", SPECIAL), ["<|ENDOFTEXT|> <|endof"]);
  assert.deepEqual(splitOnSpecialTokens("", SPECIAL), []);
});

test("splitOnSpecialTokens loses no character", () => {
  const piece = fc.oneof(fc.constantFrom(...SPECIAL, "<|", "|>", "<|endoftext"), fc.string({ maxLength: 4 }));
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 8 }), (pieces) => splitOnSpecialTokens(pieces.join(""), SPECIAL).join("") === pieces.join("")),
    { numRuns: 500 },
  );
});
