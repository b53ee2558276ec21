import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import fc from "fast-check";
import { CLIPTokenizer, TokenizerError } from "./clip_tokenizer.ts";
import { openaiEncode, openaiTokenize } from "./openai_tokenize.ts";
import { pretokenize } from "./pretokenize.ts";
import { cleanText } from "./text_cleanup.ts";

const ASSETS = new URL("../assets/clip/", import.meta.url);
const tokenizer = CLIPTokenizer.fromStrings(
  readFileSync(new URL("vocab.json", ASSETS), "utf8"),
  readFileSync(new URL("merges.txt", ASSETS), "utf8"),
);
const BOS = 49406;
const EOS = 49407;

/** The ids without special tokens, padding or truncation. */
function plain(text: string): number[] {
  return tokenizer.encode(text, { padding: false, truncation: false, addSpecialTokens: false });
}

test("CLIPTokenizer gives the reference ids of the SD1.5 test vectors", () => {
  // Vectors checked with transformers' CLIPTokenizer (shared/research/sd15.md §3.4).
  assert.deepEqual(tokenizer.encode("a photo of a cat", { padding: false }), [BOS, 320, 1125, 539, 320, 2368, EOS]);
  assert.deepEqual(tokenizer.encode("A painting of a squirrel eating a burger", { padding: false }), [
    BOS,
    320,
    3086,
    539,
    320,
    14004,
    4371,
    320,
    6548,
    EOS,
  ]);
  assert.deepEqual(tokenizer.encode("masterpiece, best quality, (cat:1.2)", { padding: false }), [
    BOS,
    12066,
    267,
    949,
    3027,
    267,
    263,
    2368,
    281,
    272,
    269,
    273,
    264,
    EOS,
  ]);
  assert.deepEqual(plain("1girl"), [272, 1611]);
  assert.deepEqual(plain("it's"), [585, 568]);
  assert.deepEqual(tokenizer.tokenize("1girl, it's"), ["1</w>", "girl</w>", ",</w>", "it</w>", "'s</w>"]);
  assert.equal(tokenizer.getVocab().get(",</w>"), 267);
  assert.equal(tokenizer.vocabSize, 49408);
});

test("encode pads with <|endoftext|> to 77 by default and not at all with padding: false", () => {
  const ids = tokenizer.encode("a photo of a cat");
  assert.equal(ids.length, 77);
  assert.deepEqual(ids.slice(0, 7), [BOS, 320, 1125, 539, 320, 2368, EOS]);
  assert.ok(ids.slice(7).every((id) => id === EOS));
  assert.deepEqual(tokenizer.encode(""), [BOS, ...new Array<number>(76).fill(EOS)]);
  assert.deepEqual(tokenizer.encode("", { padding: false }), [BOS, EOS]);
  assert.deepEqual(tokenizer.encode("cat", { maxLength: 5 }), [BOS, 2368, EOS, EOS, EOS]);
});

test("truncation to 77 keeps the first 75 text tokens between <|startoftext|> and <|endoftext|>", () => {
  const words = fc.constantFrom("cat", "masterpiece", "(", "1girl", "caf\u00e9", "\u6771\u4eac", ",", "it's", "42");
  fc.assert(
    fc.property(fc.array(words, { minLength: 40, maxLength: 120 }), (chosen) => {
      const text = chosen.join(" ");
      const full = plain(text);
      const ids = tokenizer.encode(text);
      assert.equal(ids.length, 77);
      assert.equal(ids[0], BOS);
      assert.equal(ids[76], EOS);
      assert.deepEqual(ids.slice(1, 1 + Math.min(75, full.length)), full.slice(0, 75));
      assert.deepEqual(tokenizer.encode(text, { truncation: false, padding: false }), [BOS, ...full, EOS]);
    }),
    { numRuns: 200 },
  );
});

test("encodeBatch pads to the longest row with padding: 'longest' and equals encode row by row", () => {
  const texts = ["a cat", "a photo of a cat on mars", ""];
  assert.deepEqual(
    tokenizer.encodeBatch(texts),
    texts.map((text) => tokenizer.encode(text)),
  );
  const longest = tokenizer.encodeBatch(texts, { padding: "longest" });
  assert.deepEqual(
    longest.map((row) => row.length),
    [9, 9, 9],
  );
  assert.deepEqual(longest[2], [BOS, EOS, EOS, EOS, EOS, EOS, EOS, EOS, EOS]);
  assert.deepEqual(tokenizer.encodeBatch([]), []);
});

test("special tokens in the text become their ids, also next to punctuation or from HTML entities", () => {
  assert.deepEqual(plain("<|startoftext|>cat<|endoftext|>"), [BOS, 2368, EOS]);
  assert.deepEqual(tokenizer.tokenize("!!<|endoftext|>"), ["!!</w>", "<|endoftext|>"]);
  assert.deepEqual(plain("&lt;|endoftext|&gt;"), [EOS]);
  assert.deepEqual(tokenizer.convertTokensToIds(["<|startoftext|>", "cat</w>", "no such token"]), [BOS, 2368, EOS]);
  assert.deepEqual(tokenizer.convertIdsToTokens([BOS, 2368]), ["<|startoftext|>", "cat</w>"]);
});

test("decode skips special tokens by default and reads </w> as a space", () => {
  assert.equal(tokenizer.decode(tokenizer.encode("A photo of a CAT")), "a photo of a cat");
  assert.equal(tokenizer.decode(tokenizer.encode("1girl, cat")), "1 girl , cat");
  assert.equal(tokenizer.decode([BOS, 2368, EOS], { skipSpecialTokens: false }), "<|startoftext|>cat <|endoftext|>");
  assert.equal(tokenizer.decode(tokenizer.encode("caf\u00e9 \u{1f431}")), "caf\u00e9 \u{1f431}");
  assert.throws(() => tokenizer.decode([49408]), TokenizerError);
});

const WORDS = ["a", "photo", "of", "cat", "masterpiece", "best", "quality", "portrait", "lighting", "cyberpunk", "astronaut", "watercolor"];
const LETTERS = ["\u6771", "\u4eac", "\u732b", "\u3042", "\u30ab", "\u30fc", "\ud55c", "\uae00", "\u05e9", "\u05dc"];
const word = fc.oneof(
  fc.constantFrom(...WORDS),
  fc.array(fc.constantFrom(...LETTERS), { minLength: 1, maxLength: 4 }).map((chars) => chars.join("")),
);
const casedWord = fc.tuple(word, fc.boolean()).map(([text, isUpper]) => (isUpper ? text.toUpperCase() : text));
const separator = fc.constantFrom(" ", "  ", "\t", "\n", " \u3000 ");

test("decode(encode(text)) is the cleaned, lower-cased text for words separated by whitespace", () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(casedWord, separator), { minLength: 1, maxLength: 20 }), (parts) => {
      const text = parts.map(([w, s]) => w + s).join("");
      const ids = tokenizer.encode(text, { truncation: false, padding: false });
      assert.equal(tokenizer.decode(ids), cleanText(text));
      assert.equal(
        cleanText(text),
        text
          .trim()
          .split(/[\s\u3000]+/)
          .join(" ")
          .toLowerCase(),
      );
    }),
    { numRuns: 2000 },
  );
});

test("decode(encode(text)) is the pre-tokens of the cleaned text joined by spaces, for any prompt-like text", () => {
  const piece = fc.oneof(
    casedWord,
    fc.constantFrom(",", ".", "(", ")", "[", "]", ":", "!!", "'s", "'t", "-", "_", "&amp;", "\u00e9", "\u00df", "\u00c5"),
    fc.integer({ min: 0, max: 99999 }).map(String),
    fc.string({ unit: "grapheme", maxLength: 3 }),
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(piece, fc.constantFrom("", " ", ", ")), { maxLength: 25 }), (parts) => {
      const text = parts.map(([p, s]) => p + s).join("");
      const ids = tokenizer.encode(text, { truncation: false, padding: false });
      const expected = pretokenize(cleanText(text)).filter((token) => token !== "<|startoftext|>" && token !== "<|endoftext|>");
      assert.equal(tokenizer.decode(ids), expected.join(" "));
      // Encoding the decoded text again gives the same ids.
      assert.deepEqual(
        tokenizer.encode(tokenizer.decode(ids), { truncation: false, padding: false }).slice(1, -1),
        plain(expected.join(" ")),
      );
    }),
    { numRuns: 2000 },
  );
});

test("encode refuses a maxLength that cannot hold the special tokens", () => {
  assert.throws(() => tokenizer.encode("cat", { maxLength: 1 }), /maxLength 1: it must be an integer >= 2/);
  assert.deepEqual(tokenizer.encode("cat dog", { maxLength: 1, addSpecialTokens: false }), [2368]);
});

test("openaiEncode and openaiTokenize follow openai/CLIP: html.unescape twice, zero padding, EOT kept when cut", () => {
  assert.deepEqual(openaiEncode(tokenizer, "a photo of a cat"), [320, 1125, 539, 320, 2368]);
  assert.deepEqual(openaiTokenize(tokenizer, "a photo of a cat").slice(0, 8), [BOS, 320, 1125, 539, 320, 2368, EOS, 0]);
  // ftfy decodes only references that end in ";"; html.unescape also the legacy ones without it
  // (Python: ftfy.fix_text("caf&eacute") == "caf&eacute", html.unescape of it == "café").
  assert.deepEqual(openaiEncode(tokenizer, "caf&eacute"), plain("caf\u00e9"));
  assert.deepEqual(plain("caf&eacute"), plain("caf & eacute"));
  assert.deepEqual(openaiEncode(tokenizer, "&amp;lt;"), plain("&amp;lt;"));
  const long = openaiTokenize(tokenizer, "cat ".repeat(100));
  assert.equal(long.length, 77);
  assert.equal(long[76], EOS);
});
