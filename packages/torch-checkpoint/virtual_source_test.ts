import assert from "node:assert/strict";
import { test } from "node:test";
import { StorageRef, TensorRef } from "./pickle/py_values.ts";
import type { StorageStore } from "./storage_store.ts";
import { headerOf, layOut, VirtualTensorSource } from "./virtual_source.ts";

/** A store whose storage "s" holds the bytes 0, 1, 2, …, 99. */
const store: StorageStore = {
  read: async (_storage, start, end) => Uint8Array.from({ length: end - start }, (_, i) => start + i),
  byteLength: () => 100,
  close: async () => {},
};
const storage = new StorageRef("s", "U8", 100);
const u8 = (offset: number, shape: number[], strides: number[]) => new TensorRef(storage, "U8", offset, shape, strides, false, false);

test("layOut() starts every tensor at a multiple of 8 and headerOf() describes the layout", () => {
  const laidOut = layOut([
    ["a", u8(0, [3], [1])],
    ["b", u8(10, [2, 2], [1, 2])],
    ["c", u8(0, [0], [1])],
  ]);
  assert.deepEqual(
    laidOut.map(({ name, begin, end }) => [name, begin, end]),
    [
      ["a", 0, 3],
      ["b", 8, 12],
      ["c", 16, 16],
    ],
  );
  const header = headerOf(laidOut);
  assert.equal(header.dataByteLength, 16);
  assert.deepEqual(header.tensors[1], { name: "b", dtype: "U8", shape: [2, 2], dataOffsets: [8, 12] });
});

test("VirtualTensorSource reads ranges across tensors, gathering strided ones and zero-filling the padding", async () => {
  const source = new VirtualTensorSource(
    "test",
    layOut([
      ["a", u8(0, [3], [1])],
      ["b", u8(10, [2, 2], [1, 2])],
    ]),
    store,
  );
  assert.deepEqual(await source.read(0, 12), new Uint8Array([0, 1, 2, 0, 0, 0, 0, 0, 10, 12, 11, 13]));
  assert.deepEqual(await source.read(2, 10), new Uint8Array([2, 0, 0, 0, 0, 0, 10, 12]));
  assert.deepEqual(await source.read(9, 11), new Uint8Array([12, 11]));
  assert.deepEqual(await source.read(10, 50), new Uint8Array([11, 13]));
  await source.close();
  await assert.rejects(source.read(0, 1), /closed/);
});
