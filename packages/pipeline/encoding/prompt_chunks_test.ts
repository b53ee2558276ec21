import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { type CLIPTokenizer, loadDefaultClipTokenizer } from "@spo/clip/node";
import fc from "fast-check";
import { fcRuns } from "@spo/wgpu-tensor/testing";
import { emptyChunk, tokenizePromptChunks } from "./prompt_chunks.ts";
import { tokenizePrompts } from "./prompt_encoder.ts";

const BOS = 49406;
const EOS = 49407;
const WORDS = ["cat", "dog", "red", "photo", "tree", "house", "blue", "sky"];

let tokenizer: CLIPTokenizer;
before(async () => {
  tokenizer = await loadDefaultClipTokenizer();
});

function inner(ids: number[]): number[] {
  return ids.slice(1, -1);
}

describe("tokenizePromptChunks", () => {
  test("a plain prompt of at most 75 tokens is one chunk equal to the tokenizer's padded encoding", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...WORDS), { minLength: 0, maxLength: 75 }), (words) => {
        const prompt = words.join(" ");
        const { chunks, tokenCount } = tokenizePromptChunks(tokenizer, prompt);
        assert.equal(chunks.length, 1);
        assert.deepEqual(chunks[0]!.ids, tokenizer.encode(prompt));
        assert.ok(chunks[0]!.weights.every((w) => w === 1));
        assert.equal(tokenCount, tokenizer.encodeText(prompt).length);
      }),
      { numRuns: fcRuns(30) },
    );
  });

  test("a long prompt without commas is cut every 75 tokens and its chunks hold all its tokens in order", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...WORDS), { minLength: 76, maxLength: 240 }), (words) => {
        const prompt = words.join(" ");
        const ids = tokenizer.encodeText(prompt);
        const { chunks } = tokenizePromptChunks(tokenizer, prompt);
        assert.equal(chunks.length, Math.ceil(ids.length / 75));
        for (const chunk of chunks) {
          assert.equal(chunk.ids.length, 77);
          assert.equal(chunk.ids[0], BOS);
          assert.equal(chunk.ids[76], EOS);
        }
        const joined = chunks.flatMap((c) => inner(c.ids));
        assert.deepEqual(joined.slice(0, ids.length), ids);
        assert.ok(joined.slice(ids.length).every((id) => id === EOS));
      }),
      { numRuns: fcRuns(20) },
    );
  });

  test("BREAK closes the chunk and the text after it starts the next one", () => {
    const { chunks } = tokenizePromptChunks(tokenizer, "red cat BREAK blue dog");
    assert.equal(chunks.length, 2);
    assert.deepEqual(inner(chunks[0]!.ids).slice(0, 3), [...tokenizer.encodeText("red cat"), EOS]);
    assert.deepEqual(inner(chunks[1]!.ids).slice(0, 3), [...tokenizer.encodeText("blue dog"), EOS]);
  });

  test("a chunk that fills up with a comma among its last 20 tokens moves the words after the comma to the next chunk", () => {
    const cat = tokenizer.encodeText("cat");
    const dog = tokenizer.encodeText("dog");
    assert.equal(cat.length, 1);
    const prompt = `${Array(70).fill("cat").join(" ")}, ${Array(10).fill("dog").join(" ")}`;
    const { chunks } = tokenizePromptChunks(tokenizer, prompt);
    assert.equal(chunks.length, 2);
    const comma = tokenizer.encodeText(",")[0]!;
    assert.deepEqual(inner(chunks[0]!.ids), [...Array(70).fill(cat[0]), comma, ...Array(4).fill(EOS)]);
    assert.deepEqual(inner(chunks[1]!.ids).slice(0, 11), [...Array(10).fill(dog[0]), EOS]);
    // without the backtrack the cut is at 75 tokens exactly
    const plain = tokenizePromptChunks(tokenizer, prompt, { commaPaddingBacktrack: 0 });
    assert.deepEqual(inner(plain.chunks[0]!.ids), [...Array(70).fill(cat[0]), comma, ...Array(4).fill(dog[0])]);
  });

  test("each token carries the weight of its emphasis and BOS, EOS and padding weigh 1", () => {
    const { chunks } = tokenizePromptChunks(tokenizer, "a (red:1.5) [cat] dog");
    const w = chunks[0]!.weights;
    assert.deepEqual(w.slice(0, 6), [1, 1, 1.5, 1 / 1.1, 1, 1]);
    assert.ok(w.slice(5).every((x) => x === 1));
  });

  test("an empty prompt is one empty chunk, the same as emptyChunk", () => {
    assert.deepEqual(tokenizePromptChunks(tokenizer, "").chunks, [emptyChunk()]);
    assert.deepEqual(emptyChunk().ids, [BOS, ...Array(76).fill(EOS)]);
  });
});

describe("tokenizePrompts", () => {
  test("pads every prompt of a batch to the largest chunk count, at least minChunks, and returns its LoRA tags", () => {
    const long = Array(100).fill("cat").join(" ");
    const { chunks, loraTags } = tokenizePrompts(tokenizer, [`<lora:spo:0.7> ${long}`, "dog"]);
    assert.equal(chunks.length, 2);
    assert.deepEqual(chunks[1]![1], emptyChunk());
    assert.equal(loraTags[0]![0]!.name, "spo");
    assert.equal(loraTags[0]![0]!.unetMultiplier, 0.7);
    assert.deepEqual(loraTags[1], []);
    assert.equal(tokenizePrompts(tokenizer, [""], { minChunks: 3 }).chunks.length, 3);
  });
});
