import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { BytePairEncoder, END_OF_WORD, type Merge } from "./bpe.ts";

/**
 * The reference algorithm, transcribed from transformers' `CLIPTokenizer.bpe` (itself openai/CLIP's):
 * repeatedly take the adjacent pair of lowest rank and merge its occurrences left to right.
 */
function referenceBpe(token: string, merges: readonly Merge[]): string[] {
  const ranks = new Map<string, number>();
  merges.forEach(([a, b], rank) => ranks.set(`${a} ${b}`, rank));
  let word = [...token.slice(0, -1), token.slice(-1) + END_OF_WORD];
  if (word.length < 2) return word;
  while (true) {
    let bigram: [string, string] | null = null;
    let best = Infinity;
    for (let i = 0; i + 1 < word.length; i += 1) {
      const rank = ranks.get(`${word[i]} ${word[i + 1]}`) ?? Infinity;
      if (rank < best) {
        best = rank;
        bigram = [word[i]!, word[i + 1]!];
      }
    }
    if (bigram === null) break;
    const [first, second] = bigram;
    const next: string[] = [];
    let i = 0;
    while (i < word.length) {
      const j = word.indexOf(first, i);
      if (j === -1) {
        next.push(...word.slice(i));
        break;
      }
      next.push(...word.slice(i, j));
      i = j;
      if (word[i] === first && i < word.length - 1 && word[i + 1] === second) {
        next.push(first + second);
        i += 2;
      } else {
        next.push(word[i]!);
        i += 1;
      }
    }
    word = next;
    if (word.length === 1) break;
  }
  return word;
}

test("BytePairEncoder merges the lowest-ranked pair first", () => {
  const bpe = new BytePairEncoder([
    ["c", "a"],
    ["ca", "t</w>"],
    ["a", "t</w>"],
  ]);
  assert.deepEqual(bpe.encode("cat"), ["cat</w>"]);
  assert.deepEqual(bpe.encode("cab"), ["ca", "b</w>"]);
  assert.deepEqual(bpe.encode("at"), ["at</w>"]);
  assert.deepEqual(bpe.encode("x"), ["x</w>"]);
});

test("BytePairEncoder merges repeated pairs left to right without overlap", () => {
  const bpe = new BytePairEncoder([["a", "a"]]);
  assert.deepEqual(bpe.encode("aaaa"), ["aa", "a", "a</w>"]);
  assert.deepEqual(bpe.encode("aaab"), ["aa", "a", "b</w>"]);
});

test("BytePairEncoder keeps fixed words whole and gives the last rank of a repeated merge", () => {
  const bpe = new BytePairEncoder(
    [
      ["a", "b"],
      ["b", "c"],
      ["a", "b"],
    ],
    ["<|endoftext|>"],
  );
  assert.deepEqual(bpe.encode("<|endoftext|>"), ["<|endoftext|>"]);
  assert.equal(bpe.rank("a", "b"), 2);
  // "b c" (rank 1) now comes before "a b" (rank 2).
  assert.deepEqual(bpe.encode("abcx"), ["a", "bc", "x</w>"]);
});

test("BytePairEncoder matches the reference algorithm on random merges and words", () => {
  const alphabet = fc.constantFrom("a", "b", "c", "d");
  const symbol = fc.array(alphabet, { minLength: 1, maxLength: 3 }).map((chars) => chars.join(""));
  const merge = fc.tuple(
    symbol,
    fc.oneof(
      symbol,
      symbol.map((s) => s + END_OF_WORD),
    ),
  );
  fc.assert(
    fc.property(fc.array(merge, { maxLength: 30 }), fc.array(alphabet, { minLength: 1, maxLength: 12 }), (merges, chars) => {
      const word = chars.join("");
      const got = new BytePairEncoder(merges).encode(word);
      assert.deepEqual(got, referenceBpe(word, merges));
      assert.equal(got.join(""), word + END_OF_WORD);
    }),
    { numRuns: 1000 },
  );
});

test("BytePairEncoder gives the same symbols from its cache, also after the cache is emptied", () => {
  const bpe = new BytePairEncoder([["a", "b"]], [], 2);
  const first = ["ab", "abab", "ba", "bab"].map((word) => bpe.encode(word));
  const second = ["ab", "abab", "ba", "bab"].map((word) => bpe.encode(word));
  assert.deepEqual(second, first);
});
