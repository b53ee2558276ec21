import assert from "node:assert/strict";
import { test } from "node:test";
import { parseSafetensors } from "./parse.ts";
import { typedArrayOf } from "./typed_array.ts";
import { assertSafetensorsError } from "./test/_assert_error.ts";
import { entry, fileWithHeader } from "./test/_build.ts";

// The bytes of the reference Rust library's `test_serialization` (safetensors/src/tensor.rs).
const REFERENCE_ATTN = new Uint8Array([
  64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100, 116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34,
  115, 104, 97, 112, 101, 34, 58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115, 101, 116, 115, 34, 58, 91,
  48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
]);

test("parseSafetensors() reads a file written by the reference library", () => {
  const { tensors, metadata } = parseSafetensors(REFERENCE_ATTN);
  assert.deepEqual(metadata, {});
  assert.deepEqual([...tensors.keys()], ["attn.0"]);
  const tensor = tensors.get("attn.0")!;
  assert.equal(tensor.dtype, "F32");
  assert.deepEqual(tensor.shape, [1, 2, 3]);
  assert.deepEqual([...typedArrayOf(tensor)], [0, 1, 2, 3, 4, 5]);
});

test("parseSafetensors() returns views of the input without copying", () => {
  const file = REFERENCE_ATTN.slice();
  const tensor = parseSafetensors(file).tensors.get("attn.0")!;
  assert.equal(tensor.data.buffer, file.buffer);
  assert.equal(tensor.data.byteOffset, 72);
  file[72 + 3] = 0x3f;
  assert.equal(tensor.data[3], 0x3f);
});

test("parseSafetensors() accepts an ArrayBuffer, a Buffer, and a Uint8Array inside a larger buffer", () => {
  const fromArrayBuffer = parseSafetensors(REFERENCE_ATTN.slice().buffer);
  assert.equal(fromArrayBuffer.tensors.get("attn.0")!.data.byteLength, 24);
  const fromBuffer = parseSafetensors(Buffer.from(REFERENCE_ATTN));
  assert.deepEqual([...typedArrayOf(fromBuffer.tensors.get("attn.0")!)], [0, 1, 2, 3, 4, 5]);
  const padded = new Uint8Array(REFERENCE_ATTN.length + 11);
  padded.set(REFERENCE_ATTN, 5);
  const inner = parseSafetensors(padded.subarray(5, 5 + REFERENCE_ATTN.length)).tensors.get("attn.0")!;
  assert.equal(inner.data.byteOffset, 77);
  assert.deepEqual([...typedArrayOf(inner)], [0, 1, 2, 3, 4, 5]);
});

test("parseSafetensors() orders tensors by their bytes, whatever the header order", () => {
  const text = `{${entry("z", "U8", [1], 0, 1)},${entry("b", "U8", [2], 3, 5)},${entry("a", "U8", [2], 1, 3)}}`;
  const { tensors } = parseSafetensors(fileWithHeader(text, new Uint8Array([1, 2, 3, 4, 5])));
  assert.deepEqual([...tensors.keys()], ["z", "a", "b"]);
  assert.deepEqual([...tensors.get("b")!.data], [4, 5]);
});

test("parseSafetensors() gives each tensor its own shape array", () => {
  const first = parseSafetensors(REFERENCE_ATTN).tensors.get("attn.0")!;
  first.shape.push(9);
  assert.deepEqual(parseSafetensors(REFERENCE_ATTN).tensors.get("attn.0")!.shape, [1, 2, 3]);
});

test("parseSafetensors() rejects a file cut short in its data", () => {
  assertSafetensorsError(() => parseSafetensors(REFERENCE_ATTN.subarray(0, REFERENCE_ATTN.length - 1)), {
    code: "offsets_out_of_bounds",
    tensorName: "attn.0",
  });
});
