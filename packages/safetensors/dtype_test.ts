import assert from "node:assert/strict";
import { test } from "node:test";
import { dtypeByteSize, dtypeRank, DTYPES, isDType } from "./dtype.ts";

test("DTYPES follow the reference library's alignment order", () => {
  assert.deepEqual(DTYPES, [
    "BOOL",
    "U8",
    "I8",
    "F8_E5M2",
    "F8_E4M3",
    "F8_E8M0",
    "I16",
    "U16",
    "F16",
    "BF16",
    "I32",
    "U32",
    "F32",
    "F64",
    "I64",
    "U64",
  ]);
  for (let index = 1; index < DTYPES.length; index += 1) {
    assert.ok(dtypeByteSize(DTYPES[index - 1]!) <= dtypeByteSize(DTYPES[index]!));
    assert.equal(dtypeRank(DTYPES[index]!), index);
  }
});

test("dtypeByteSize() gives the element size of every dtype", () => {
  const sizes = Object.fromEntries(DTYPES.map((dtype) => [dtype, dtypeByteSize(dtype)]));
  assert.deepEqual(sizes, {
    BOOL: 1,
    U8: 1,
    I8: 1,
    F8_E5M2: 1,
    F8_E4M3: 1,
    F8_E8M0: 1,
    I16: 2,
    U16: 2,
    F16: 2,
    BF16: 2,
    I32: 4,
    U32: 4,
    F32: 4,
    F64: 8,
    I64: 8,
    U64: 8,
  });
});

test("isDType() accepts exactly the dtype strings", () => {
  assert.ok(DTYPES.every(isDType));
  for (const value of ["f32", "float32", "F8", "", "toString", "__proto__", 4, null, undefined]) assert.equal(isDType(value), false);
});
