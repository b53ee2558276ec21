import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { parseSafetensors } from "./parse.ts";
import { openSafetensors } from "./reader.ts";
import { serializeSafetensors } from "./serialize.ts";
import { fileArb } from "./test/_arbitraries.ts";
import { assertRejectsSafetensorsError, assertSafetensorsError } from "./test/_assert_error.ts";
import { fileWithHeader } from "./test/_build.ts";
import { memorySource } from "./test/_memory_source.ts";

function sampleFile(): Uint8Array {
  return serializeSafetensors(
    {
      big: { dtype: "F32", shape: [1000], data: new Float32Array(1000).fill(0.5) },
      small: { dtype: "I64", shape: [2], data: new BigInt64Array([3n, -4n]) },
      empty: { dtype: "F16", shape: [0, 7], data: new Uint16Array(0) },
      bits: { dtype: "BOOL", shape: [3], data: new Uint8Array([1, 0, 1]) },
    },
    { note: "sample" },
  );
}

test("openSafetensors() reads the header once and a tensor's bytes only when asked", async () => {
  const file = sampleFile();
  const source = memorySource(file);
  const reader = await openSafetensors(source, { prefetchByteLength: 1024 });
  assert.deepEqual(source.reads, [[0, 1024]]);
  assert.deepEqual(reader.names, ["small", "big", "empty", "bits"]);
  assert.deepEqual(reader.metadata, { note: "sample" });
  assert.equal(reader.byteLength, file.length);
  const info = reader.info("small");
  assert.deepEqual(info.shape, [2]);
  assert.equal(info.byteLength, 16);
  assert.equal(info.byteOffset, reader.header.dataByteOffset);
  const small = await reader.tensor("small");
  assert.deepEqual(source.reads[1], [info.byteOffset, info.byteOffset + 16]);
  assert.deepEqual(small.data, parseSafetensors(file).tensors.get("small")!.data);
  assert.equal(source.reads.length, 2);
});

test("openSafetensors() reads the rest of a header larger than the first read", async () => {
  const file = sampleFile();
  const source = memorySource(file);
  const reader = await openSafetensors(source, { prefetchByteLength: 8 });
  assert.deepEqual(source.reads, [
    [0, 8],
    [8, reader.header.dataByteOffset],
  ]);
  assert.equal(reader.names.length, 4);
});

test("SafetensorsReader.tensor() reads nothing for a zero-size tensor", async () => {
  const source = memorySource(sampleFile());
  const reader = await openSafetensors(source);
  const empty = await reader.tensor("empty");
  assert.deepEqual(empty, { dtype: "F16", shape: [0, 7], data: new Uint8Array(0) });
  assert.equal(source.reads.length, 1);
});

test("SafetensorsReader.readAll() equals parseSafetensors() and groups neighbours into large reads", async () => {
  const file = sampleFile();
  const expected = parseSafetensors(file).tensors;
  const oneRead = memorySource(file);
  const all = await (await openSafetensors(oneRead)).readAll();
  assert.deepEqual(all, expected);
  assert.equal(oneRead.reads.length, 2);
  const chunked = memorySource(file);
  const allChunked = await (await openSafetensors(chunked)).readAll({ chunkByteLength: 100 });
  assert.deepEqual(allChunked, expected);
  assert.ok(chunked.reads.length >= 3);
});

test("SafetensorsReader.readAll() keeps tensors aligned when the file aligns them", async () => {
  const reader = await openSafetensors(memorySource(sampleFile()));
  for (const [name, tensor] of await reader.readAll({ chunkByteLength: 10 })) {
    const size = { I64: 8, F32: 4, F16: 2, BOOL: 1 }[tensor.dtype as "I64"];
    assert.equal(tensor.data.byteOffset % size, 0, name);
  }
});

test("SafetensorsReader.info() and tensor() reject unknown names", async () => {
  const reader = await openSafetensors(memorySource(sampleFile()));
  assert.equal(reader.has("nope"), false);
  assertSafetensorsError(() => reader.info("nope"), {
    code: "tensor_not_found",
    message: 'Cannot find tensor "nope" in memory: it has 4 other tensors',
    tensorName: "nope",
  });
  await assertRejectsSafetensorsError(reader.tensor("nope"), { code: "tensor_not_found" });
});

test("SafetensorsReader.close() closes the source once and later reads fail", async () => {
  const source = memorySource(sampleFile());
  const reader = await openSafetensors(source);
  await reader.close();
  await reader.close();
  assert.equal(source.isClosed, true);
  await assertRejectsSafetensorsError(reader.tensor("big"), {
    code: "closed",
    message: 'Cannot read tensor "big" from memory: the reader is closed',
  });
  await assertRejectsSafetensorsError(reader.readAll(), { code: "closed" });
});

test("SafetensorsReader closes at the end of an await using block", async () => {
  const source = memorySource(sampleFile());
  {
    await using reader = await openSafetensors(source);
    assert.equal(reader.names.length, 4);
  }
  assert.equal(source.isClosed, true);
});

test("openSafetensors() closes the source when the header is invalid", async () => {
  const source = memorySource(fileWithHeader('{"a":1}'));
  await assertRejectsSafetensorsError(openSafetensors(source), { code: "invalid_header" });
  assert.equal(source.isClosed, true);
});

test("openSafetensors() rejects a file too short for its length field", async () => {
  await assertRejectsSafetensorsError(openSafetensors(memorySource(new Uint8Array(3), false)), { code: "file_too_small" });
});

test("openSafetensors() of a source of unknown size reports a file cut short when a tensor is read", async () => {
  const file = sampleFile();
  const cut = file.subarray(0, file.length - 2);
  const reader = await openSafetensors(memorySource(cut, false), { prefetchByteLength: 8 });
  await assertRejectsSafetensorsError(reader.tensor("bits"), {
    code: "incomplete_buffer",
    message: /^Cannot read tensor "bits" from memory: got 1 of bytes \[\d+, \d+\), the file ends early$/,
  });
});

test("openSafetensors() accepts and rejects exactly the files parseSafetensors() does, with the same tensors", async () => {
  await fc.assert(
    fc.asyncProperty(fileArb, fc.integer({ min: 0, max: 200 }), async (file, prefetchByteLength) => {
      const reader = await openSafetensors(memorySource(file), { prefetchByteLength });
      assert.deepEqual(await reader.readAll(), parseSafetensors(file).tensors);
    }),
    { numRuns: 100 },
  );
});
