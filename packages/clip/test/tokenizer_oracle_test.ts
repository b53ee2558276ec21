// The tokenizer oracle case (test/fixtures/oracle/tokenizer.json, a copy of shared/fixtures/oracle/):
// prompts run through transformers' slow CLIPTokenizer with ftfy, and through openai/CLIP's tokenizer.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { tokenizerParityCase, type TokenizerParityManifest } from "../../../scripts/parity/cases/tokenizer_case.ts";
import { loadTokenizerForManifest } from "../../../scripts/parity/cases/tokenizer_case_node.ts";
import { defaultTokenizer } from "./_tokenizer.ts";

const MANIFEST_URL = new URL("./fixtures/oracle/tokenizer.json", import.meta.url);
const manifest = JSON.parse(readFileSync(MANIFEST_URL, "utf8")) as TokenizerParityManifest & {
  cases: { prompt: string; input_ids: number[]; untruncated_ids: number[]; tokens: string[] }[];
};

test("the oracle manifest is the SD1.5 setting the tokenizer implements", async () => {
  const tokenizer = await defaultTokenizer();
  assert.equal(manifest.kind, "tokenizer");
  assert.equal(manifest.config.bos_token_id, tokenizer.bosTokenId);
  assert.equal(manifest.config.eos_token_id, tokenizer.eosTokenId);
  assert.equal(manifest.config.pad_token_id, tokenizer.padTokenId);
  assert.equal(manifest.config.model_max_length, tokenizer.modelMaxLength);
  assert.ok(manifest.cases.length >= 30);
});

test("every oracle prompt gives exactly the reference input_ids, untruncated ids and BPE tokens", async () => {
  const tokenizer = await defaultTokenizer();
  for (const item of manifest.cases) {
    const label = JSON.stringify(item.prompt);
    assert.deepEqual(tokenizer.encode(item.prompt), item.input_ids, label);
    assert.deepEqual(tokenizer.encode(item.prompt, { padding: false, truncation: false }), item.untruncated_ids, label);
    assert.deepEqual(tokenizer.tokenize(item.prompt), item.tokens, label);
  }
});

test("tokenizerParityCase reproduces every field of every case, openai/CLIP's ids included", async () => {
  const tokenizer = await defaultTokenizer();
  const results = tokenizerParityCase(manifest, tokenizer);
  assert.equal(results.length, manifest.cases.length);
  for (const [index, result] of results.entries()) {
    const want = manifest.cases[index]! as unknown as Record<string, unknown>;
    for (const field of Object.keys(want)) {
      assert.deepEqual((result as unknown as Record<string, unknown>)[field], want[field], `${JSON.stringify(want.prompt)}: ${field}`);
    }
  }
});

test("loadTokenizerForManifest falls back to the shipped vocabulary when the manifest's files are absent", async () => {
  const elsewhere = { config: { ...manifest.config, vocab_file: "nowhere/vocab.json", merges_file: "nowhere/merges.txt" } };
  const tokenizer = await loadTokenizerForManifest(elsewhere, { folder: "/" });
  assert.deepEqual(tokenizer.encode(manifest.cases[1]!.prompt), manifest.cases[1]!.input_ids);
});

test("tokenizerParityCase refuses a manifest whose special ids differ from the tokenizer's", async () => {
  const tokenizer = await defaultTokenizer();
  const other = { ...manifest, config: { ...manifest.config, bos_token_id: 0 } };
  assert.throws(() => tokenizerParityCase(other, tokenizer), /bos_token_id 0/);
});
