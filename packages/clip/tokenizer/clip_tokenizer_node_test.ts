import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { CLIPTokenizer as BaseCLIPTokenizer } from "./clip_tokenizer.ts";
import { CLIPTokenizer, DEFAULT_CLIP_ASSETS_URL, loadDefaultClipTokenizer } from "./clip_tokenizer_node.ts";
import { TokenizerFileError } from "./vocab.ts";

const directory = mkdtempSync(join(tmpdir(), "clip-tokenizer-"));
after(() => rmSync(directory, { recursive: true, force: true }));

function copyAssets(to: string): void {
  mkdirSync(to, { recursive: true });
  for (const name of ["vocab.json", "merges.txt"]) copyFileSync(new URL(name, DEFAULT_CLIP_ASSETS_URL), join(to, name));
}

test("loadDefaultClipTokenizer reads the shipped vocabulary", async () => {
  const tokenizer = await loadDefaultClipTokenizer();
  assert.ok(tokenizer instanceof BaseCLIPTokenizer);
  assert.equal(tokenizer.vocabSize, 49408);
  assert.equal(tokenizer.modelMaxLength, 77);
  assert.deepEqual(tokenizer.encode("a photo of a cat", { padding: false }), [49406, 320, 1125, 539, 320, 2368, 49407]);
});

test("CLIPTokenizer.fromFolder reads a diffusers model folder and its tokenizer_config.json", async () => {
  const model = join(directory, "sd15");
  copyAssets(join(model, "tokenizer"));
  writeFileSync(join(model, "tokenizer", "tokenizer_config.json"), JSON.stringify({ model_max_length: 64 }));
  const tokenizer = await CLIPTokenizer.fromFolder(model);
  assert.ok(tokenizer instanceof CLIPTokenizer);
  assert.equal(tokenizer.modelMaxLength, 64);
  assert.equal(tokenizer.encode("cat").length, 64);
  assert.equal((await CLIPTokenizer.fromFolder(model, { modelMaxLength: 77 })).modelMaxLength, 77);
});

test("CLIPTokenizer.fromFolder reads a tokenizer folder given as a path or a file URL", async () => {
  const folder = join(directory, "tokenizer-only");
  copyAssets(folder);
  const fromPath = await CLIPTokenizer.fromFolder(folder);
  const fromUrl = await CLIPTokenizer.fromFolder(new URL(`file://${folder}/`));
  assert.deepEqual(fromPath.encode("1girl"), fromUrl.encode("1girl"));
});

test("CLIPTokenizer.fromFolder names the folder when it has no vocab.json", async () => {
  await assert.rejects(CLIPTokenizer.fromFolder(join(directory, "missing")), (error: unknown) => {
    assert.ok(error instanceof TokenizerFileError);
    assert.match(error.message, /missing: neither it nor its tokenizer\/ folder has vocab\.json/);
    return true;
  });
});

test("CLIPTokenizer.fromOpenAIBpeFile reads a gzip'd BPE file from disk", async () => {
  const merges = (await readFile(new URL("merges.txt", DEFAULT_CLIP_ASSETS_URL), "utf8")).trim().split("\n").slice(1);
  const stream = new Blob(["header\n" + merges.join("\n")]).stream().pipeThrough(new CompressionStream("gzip"));
  const path = join(directory, "bpe_simple_vocab_16e6.txt.gz");
  writeFileSync(path, new Uint8Array(await new Response(stream).arrayBuffer()));
  const tokenizer = await CLIPTokenizer.fromOpenAIBpeFile(path);
  assert.deepEqual(tokenizer.encode("it's a cat"), (await loadDefaultClipTokenizer()).encode("it's a cat"));
});

test('CLIPTokenizer.fromFolder pads with the folder\'s pad token (OpenCLIP ViT-H/14 pads with "!", id 0)', async () => {
  const folder = join(directory, "vit-h-14");
  copyAssets(folder);
  writeFileSync(join(folder, "special_tokens_map.json"), JSON.stringify({ pad_token: "!", eos_token: { content: "<|endoftext|>" } }));
  const tokenizer = await CLIPTokenizer.fromFolder(folder);
  assert.equal(tokenizer.padTokenId, 0);
  assert.deepEqual(tokenizer.encode("a photo of a cat").slice(0, 9), [49406, 320, 1125, 539, 320, 2368, 49407, 0, 0]);
  const configOnly = join(directory, "config-pad");
  copyAssets(configOnly);
  writeFileSync(join(configOnly, "tokenizer_config.json"), JSON.stringify({ pad_token: { content: "!", lstrip: false } }));
  assert.equal((await CLIPTokenizer.fromFolder(configOnly)).padTokenId, 0);
  assert.equal((await loadDefaultClipTokenizer()).padTokenId, 49407, "SD1.5's tokenizer still pads with <|endoftext|>");
});
