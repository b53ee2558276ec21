import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { dtypeByteSize, DTYPES } from "./dtype.ts";
import { parseSafetensors } from "./parse.ts";
import { typedArrayClassOf, typedArrayOf } from "./typed_array.ts";
import { swapBytes } from "./_endian.ts";
import { entry, fileWithHeader } from "./test/_build.ts";

test("typedArrayOf() returns the natural typed array of every dtype", () => {
  const expected = {
    BOOL: Uint8Array,
    U8: Uint8Array,
    I8: Int8Array,
    F8_E5M2: Uint8Array,
    F8_E4M3: Uint8Array,
    F8_E8M0: Uint8Array,
    I16: Int16Array,
    U16: Uint16Array,
    F16: Uint16Array,
    BF16: Uint16Array,
    I32: Int32Array,
    U32: Uint32Array,
    F32: Float32Array,
    F64: Float64Array,
    I64: BigInt64Array,
    U64: BigUint64Array,
  };
  for (const dtype of DTYPES) {
    const array = typedArrayOf({ dtype, data: new Uint8Array(16) });
    assert.equal(array.constructor, expected[dtype], dtype);
    assert.equal(typedArrayClassOf(dtype), expected[dtype]);
    assert.equal(array.length, 16 / dtypeByteSize(dtype));
  }
});

test("typedArrayOf() shares memory with aligned data", () => {
  const data = new Uint8Array(new Float64Array([1.5, -3]).buffer);
  const values = typedArrayOf({ dtype: "F64", data });
  assert.equal(values.buffer, data.buffer);
  values[0] = 7;
  assert.deepEqual([...typedArrayOf({ dtype: "F64", data })], [7, -3]);
});

test("typedArrayOf() copies data that starts at an unaligned offset and decodes it correctly", () => {
  const backing = new Uint8Array(1 + 16);
  new DataView(backing.buffer).setBigInt64(1, -5n, true);
  new DataView(backing.buffer).setBigInt64(9, 2n ** 62n, true);
  const data = backing.subarray(1);
  const values = typedArrayOf({ dtype: "I64", data });
  assert.notEqual(values.buffer, backing.buffer);
  assert.deepEqual([...values], [-5n, 2n ** 62n]);
});

test("typedArrayOf() reads the tensors of a file whose header length is not a multiple of 8", () => {
  // Another writer's file: header of odd length, so the F32 data starts at an odd file offset.
  const header = `{${entry("w", "F32", [2], 0, 8)}}`;
  const data = new Uint8Array(new Float32Array([0.25, -8]).buffer);
  const file = fileWithHeader(header, data);
  const tensor = parseSafetensors(file).tensors.get("w")!;
  assert.notEqual(tensor.data.byteOffset % 4, 0);
  assert.deepEqual([...typedArrayOf(tensor)], [0.25, -8]);
});

test("typedArrayOf() holds the same little-endian bytes at every offset, as a view or a copy", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...DTYPES),
      fc.integer({ min: 0, max: 7 }),
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      (dtype, offset, bytes) => {
        const backing = new Uint8Array(offset + 16);
        backing.set(bytes, offset);
        const values = typedArrayOf({ dtype, data: backing.subarray(offset) });
        assert.equal(values.length, 16 / dtypeByteSize(dtype));
        assert.deepEqual(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), bytes);
        assert.equal(values.buffer === backing.buffer, offset % dtypeByteSize(dtype) === 0);
      },
    ),
    { numRuns: 200 },
  );
});

test("swapBytes() reverses the bytes of each element, for big-endian hosts", () => {
  assert.deepEqual([...swapBytes(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), 4)], [4, 3, 2, 1, 8, 7, 6, 5]);
  assert.deepEqual([...swapBytes(new Uint8Array([1, 2, 3, 4]), 2)], [2, 1, 4, 3]);
});
