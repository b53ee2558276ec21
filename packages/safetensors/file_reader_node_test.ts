import assert from "node:assert/strict";
import { mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { readSafetensorsFile } from "./file_reader_node.ts";
import { parseSafetensors } from "./parse.ts";
import { toFloat32Array } from "./to_float32.ts";
import { assertRejectsSafetensorsError } from "./test/_assert_error.ts";
import { entry } from "./test/_build.ts";

const FIXTURE = new URL("./test/fixtures/clip_text.safetensors", import.meta.url);
let directory: string;

before(async () => {
  directory = await mkdtemp(join(tmpdir(), "safetensors-test-"));
});

after(async () => {
  await rm(directory, { recursive: true, force: true });
});

test("readSafetensorsFile() reads the header and tensors that match parseSafetensors()", async () => {
  const expected = parseSafetensors(await readFile(FIXTURE));
  await using file = await readSafetensorsFile(FIXTURE);
  assert.deepEqual(file.names, [...expected.tensors.keys()]);
  assert.deepEqual(file.metadata, expected.metadata);
  assert.deepEqual(file.info("input_ids").shape, [4, 77]);
  assert.deepEqual(await file.tensor("last_hidden_state"), expected.tensors.get("last_hidden_state"));
  assert.deepEqual(await file.readAll(), expected.tensors);
});

test("readSafetensorsFile() reads one tensor of a 5 GB file without reading the rest", async () => {
  // A sparse file: a 5 000 000 000-byte U8 tensor of zeros the disk never stores, then 8 bytes.
  const bigLength = 5_000_000_000;
  const text = `{${entry("big", "U8", [bigLength], 0, bigLength)},${entry("tail", "F32", [2], bigLength, bigLength + 8)}}`;
  const header = new TextEncoder().encode(text);
  const path = join(directory, "sparse.safetensors");
  const handle = await open(path, "w");
  const lengthField = new Uint8Array(8);
  new DataView(lengthField.buffer).setBigUint64(0, BigInt(header.length), true);
  await handle.write(lengthField, 0, 8, 0);
  await handle.write(header, 0, header.length, 8);
  const tail = new Uint8Array(new Float32Array([1.25, -3]).buffer);
  await handle.write(tail, 0, 8, 8 + header.length + bigLength);
  await handle.close();

  const started = performance.now();
  await using file = await readSafetensorsFile(path);
  assert.equal(file.byteLength, 8 + header.length + bigLength + 8);
  assert.equal(file.info("big").byteLength, bigLength);
  const tensor = await file.tensor("tail");
  assert.deepEqual([...toFloat32Array(tensor)], [1.25, -3]);
  assert.ok(performance.now() - started < 2000);
});

test("readSafetensorsFile() reports a missing file as an io error", async () => {
  const path = join(directory, "missing.safetensors");
  await assertRejectsSafetensorsError(readSafetensorsFile(path), {
    code: "io",
    message: new RegExp(`^Cannot open safetensors file "${path}": ENOENT`),
  });
});

test("readSafetensorsFile() rejects an invalid file and names it", async () => {
  const path = join(directory, "bad.safetensors");
  await writeFile(path, new Uint8Array([0, 0, 0, 0, 0, 0, 0, 1]));
  await assertRejectsSafetensorsError(readSafetensorsFile(path), {
    code: "header_too_large",
    message: `Cannot parse safetensors header: header length 72057594037927936 exceeds the 100000000-byte limit (reading "${path}")`,
  });
});

test("readSafetensorsFile() reports a file that shrank after opening", async () => {
  const path = join(directory, "shrinking.safetensors");
  await writeFile(path, await readFile(FIXTURE));
  const file = await readSafetensorsFile(path);
  const handle = await open(path, "r+");
  await handle.truncate(file.header.dataByteOffset + 100);
  await handle.close();
  await assertRejectsSafetensorsError(file.tensor("clip_skip1"), { code: "incomplete_buffer", tensorName: "clip_skip1" });
  await file.close();
});
