// The reference fixtures written by Python (the safetensors library and, for the subset, plain
// struct/json): names, shapes against the case manifests, and values against numpy's decoding.
// Copies live in test/fixtures/ (see its README); the full set in shared/fixtures/oracle/ is
// checked too when this checkout has it.

import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { readSafetensorsFile } from "../file_reader_node.ts";
import { parseSafetensors } from "../parse.ts";
import type { SafeTensor } from "../tensor.ts";
import { toFloat32Array } from "../to_float32.ts";
import { typedArrayOf } from "../typed_array.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url);
const SHARED_ORACLE = new URL("../../../../shared/fixtures/oracle/", import.meta.url);

interface Manifest {
  shapes: Record<string, number[]>;
  config: { vocab_size?: number };
  weights_prefix?: string;
}

interface ExpectedValues {
  tensors: Record<string, { dtype: string; shape?: number[]; first: number[]; sum: number; max_abs?: number }>;
}

async function readJson<T>(url: URL): Promise<T> {
  // Python's json writes -Infinity and NaN (scheduler configs), which JSON.parse rejects.
  const text = (await readFile(url, "utf8")).replace(/(?<=[:[,]\s*)(-?Infinity|NaN)(?=\s*[,}\]])/g, "null");
  return JSON.parse(text) as T;
}

async function parseFixture(name: string) {
  return parseSafetensors(await readFile(new URL(name, FIXTURES)));
}

function sum(values: ArrayLike<number>): number {
  let total = 0;
  for (let index = 0; index < values.length; index += 1) total += values[index]!;
  return total;
}

function toNumbers(tensor: SafeTensor): number[] {
  const values = typedArrayOf(tensor);
  return Array.from(values as ArrayLike<number | bigint>, (value) => Number(value));
}

test("clip_text.safetensors has the tensors and shapes its manifest lists", async () => {
  const manifest = await readJson<Manifest>(new URL("clip_text.json", FIXTURES));
  const { tensors, metadata } = await parseFixture("clip_text.safetensors");
  assert.deepEqual(metadata, { case: "clip_text", set: "dev" });
  assert.equal(tensors.size, 95);
  for (const [name, shape] of Object.entries(manifest.shapes)) {
    assert.deepEqual(tensors.get(name)?.shape, shape, name);
  }
  const weights = [...tensors.keys()].filter((name) => name.startsWith(manifest.weights_prefix ?? "weights."));
  assert.equal(weights.length + Object.keys(manifest.shapes).length, 95);
  assert.deepEqual(tensors.get("weights.text_model.embeddings.token_embedding.weight")?.shape, [1000, 32]);
});

test("clip_text.safetensors holds I64 ids that are integers in the vocabulary, pooled at the argmax", async () => {
  const manifest = await readJson<Manifest>(new URL("clip_text.json", FIXTURES));
  const { tensors } = await parseFixture("clip_text.safetensors");
  const ids = tensors.get("input_ids")!;
  assert.equal(ids.dtype, "I64");
  const values = typedArrayOf({ dtype: "I64", data: ids.data });
  assert.ok(values.every((id) => id >= 0n && id < BigInt(manifest.config.vocab_size!)));
  const asFloats = toFloat32Array(ids);
  assert.ok(asFloats.every(Number.isInteger));
  // The legacy pooling rule takes the argmax of each row's ids (the manifest's notes).
  const pooled = toNumbers(tensors.get("pooled_index")!);
  const [rows, columns] = ids.shape as [number, number];
  for (let row = 0; row < rows; row += 1) {
    const rowIds = Array.from(asFloats.subarray(row * columns, (row + 1) * columns));
    assert.equal(pooled[row], rowIds.indexOf(Math.max(...rowIds)));
  }
});

test("clip_text.safetensors values match numpy's decoding", async () => {
  const expected = await readJson<ExpectedValues>(new URL("clip_text_values.json", FIXTURES));
  const { tensors } = await parseFixture("clip_text.safetensors");
  for (const [name, want] of Object.entries(expected.tensors)) {
    const tensor = tensors.get(name)!;
    assert.equal(tensor.dtype, want.dtype);
    const values = toNumbers(tensor);
    assert.deepEqual(values.slice(0, want.first.length).map(Math.fround), want.first.map(Math.fround), name);
    const total = want.dtype === "I64" ? sum(values) : sum(toFloat32Array(tensor));
    assert.ok(Math.abs(total - want.sum) <= 1e-6 * Math.max(1, Math.abs(want.sum)) * values.length, `${name}: ${total} vs ${want.sum}`);
  }
});

test("the taesd_random subset decodes F16 weights exactly as numpy does", async () => {
  const expected = await readJson<ExpectedValues>(new URL("taesd_random_subset.json", FIXTURES));
  const { tensors, metadata } = await parseFixture("taesd_random_subset.safetensors");
  assert.equal(metadata.case, "taesd_random");
  for (const [name, want] of Object.entries(expected.tensors)) {
    const tensor = tensors.get(name)!;
    assert.equal(tensor.dtype, want.dtype, name);
    assert.deepEqual(tensor.shape, want.shape, name);
    const values = toFloat32Array(tensor);
    // float16 -> float32 is exact, so the first values equal numpy's float64 ones.
    assert.deepEqual(Array.from(values.subarray(0, want.first.length)), want.first, name);
    assert.ok(Math.abs(sum(values) - want.sum) < 1e-4, name);
    assert.equal(Math.max(...Array.from(values, Math.abs)), want.max_abs, name);
  }
});

test("the file reader and the parser agree on both fixtures", async () => {
  for (const name of ["clip_text.safetensors", "taesd_random_subset.safetensors"]) {
    const parsed = await parseFixture(name);
    await using file = await readSafetensorsFile(new URL(name, FIXTURES));
    assert.deepEqual(await file.readAll(), parsed.tensors);
  }
});

/** The shared oracle folder when it sits beside the checkout, else the copies the packages ship. */
const PACKAGES = new URL("../../", import.meta.url);
const oracleFolders = existsSync(SHARED_ORACLE)
  ? [SHARED_ORACLE]
  : readdirSync(PACKAGES)
      .map((name) => new URL(`${name}/test/fixtures/oracle/`, PACKAGES))
      .filter((folder) => existsSync(folder));
const oracleFiles = oracleFolders.flatMap((folder) =>
  readdirSync(folder)
    .filter((name) => name.endsWith(".safetensors"))
    .map((name) => ({ folder, name })),
);

test("every oracle fixture (shared, or the packages' copies) reads lazily and matches its manifest's shapes", async () => {
  let checkedShapes = 0;
  assert.ok(oracleFiles.length >= 10, `only ${oracleFiles.length} fixture files found`);
  for (const { folder, name: fileName } of oracleFiles) {
    const manifestUrl = new URL(fileName.replace(/(\.lora|\.kohya)?\.safetensors$/, ".json"), folder);
    await using file = await readSafetensorsFile(new URL(fileName, folder));
    assert.ok(file.names.length > 0, fileName);
    if (!existsSync(manifestUrl) || fileName.includes(".lora.") || fileName.includes(".kohya.")) continue;
    const manifest = await readJson<Manifest>(manifestUrl);
    for (const [name, shape] of Object.entries(manifest.shapes)) {
      if (!file.has(name)) continue; // some outputs are JSON fields, not tensors
      assert.deepEqual(file.info(name).shape, shape, `${fileName}: ${name}`);
      checkedShapes += 1;
    }
    for (const name of file.names) {
      const tensor = await file.tensor(name);
      assert.ok(["F32", "F16", "I64", "U8"].includes(tensor.dtype), `${fileName}: ${name} is ${tensor.dtype}`); // U8: pipeline.safetensors' 8-bit images
      const values = toFloat32Array(tensor);
      if (tensor.dtype === "I64") assert.ok(values.every(Number.isInteger));
    }
  }
  assert.ok(checkedShapes > 100);
});
