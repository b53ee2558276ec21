import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { CLIPTokenizer } from "./clip_tokenizer.ts";
import { buildClipVocab, CLIP_MERGE_COUNT, parseMerges, parseVocabJson, TokenizerFileError } from "./vocab.ts";

const ASSETS = new URL("../assets/clip/", import.meta.url);
const vocabJson = readFileSync(new URL("vocab.json", ASSETS), "utf8");
const mergesTxt = readFileSync(new URL("merges.txt", ASSETS), "utf8");

async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

test("the vocabulary built from the merges the way openai/CLIP does equals the shipped vocab.json", () => {
  const shipped = parseVocabJson(vocabJson);
  const built = buildClipVocab(parseMerges(mergesTxt));
  assert.equal(shipped.size, 49408);
  assert.equal(built.size, shipped.size);
  for (const [token, id] of shipped) assert.equal(built.get(token), id, token);
  assert.equal(built.get("<|startoftext|>"), 49406);
  assert.equal(built.get("<|endoftext|>"), 49407);
});

test("parseMerges skips the header and keeps the first 48,894 rules", () => {
  const merges = parseMerges(mergesTxt);
  assert.equal(merges.length, CLIP_MERGE_COUNT);
  assert.deepEqual(merges[0], ["i", "n"]);
  assert.deepEqual(parseMerges("#version: 0.2\na b\nc d</w>\ne f\n", 2), [
    ["a", "b"],
    ["c", "d</w>"],
  ]);
  assert.throws(() => parseMerges("#version: 0.2\na b c\n"), TokenizerFileError);
  assert.throws(() => parseMerges("#version: 0.2\nab\n"), TokenizerFileError);
});

test("parseVocabJson refuses anything but an object of non-negative integer ids", () => {
  assert.throws(() => parseVocabJson("[1, 2]"), TokenizerFileError);
  assert.throws(() => parseVocabJson('{"a": 1.5}'), /token "a" has id 1.5/);
  assert.throws(() => parseVocabJson('{"a": -1}'), TokenizerFileError);
});

test("a tokenizer read from a gzip'd openai/CLIP BPE file equals the one read from vocab.json and merges.txt", async () => {
  // bpe_simple_vocab_16e6.txt.gz is not available here: rebuild its layout (a header line, the
  // merges, then more merges that CLIP never uses) from the shipped merges and gzip it.
  const lines = mergesTxt.trim().split("\n").slice(1);
  const unused = ["q z", "z q</w>", "x x"];
  const gzipped = await gzip(['"bpe_simple_vocab_16e6.txt#version: 0.2', ...lines, ...unused].join("\n"));
  const fromGz = await CLIPTokenizer.fromOpenAIBpe(gzipped);
  const fromJson = CLIPTokenizer.fromStrings(vocabJson, mergesTxt);
  assert.equal(fromGz.vocabSize, 49408);
  assert.deepEqual([...fromGz.getVocab()].sort(), [...fromJson.getVocab()].sort());
  for (const prompt of ["a photo of a cat", "masterpiece, best quality, (cat:1.2)", "Caf\u00e9 \u6771\u4eac \u{1f431} 1girl it's"]) {
    assert.deepEqual(fromGz.encode(prompt), fromJson.encode(prompt), prompt);
  }
});
