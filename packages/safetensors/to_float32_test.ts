import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import type { DType } from "./dtype.ts";
import { toFloat32Array } from "./to_float32.ts";

function bytesOf(array: ArrayBufferView): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

function convert(dtype: DType, array: ArrayBufferView): number[] {
  return [...toFloat32Array({ dtype, data: bytesOf(array) })];
}

test("toFloat32Array() decodes F16 special values exactly", () => {
  const cases: [number, number][] = [
    [0x0000, 0],
    [0x8000, -0],
    [0x3c00, 1],
    [0xc000, -2],
    [0x3555, 0.333251953125],
    [0x7bff, 65504],
    [0x0400, 2 ** -14],
    [0x03ff, 1023 * 2 ** -24],
    [0x0001, 2 ** -24],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ];
  const got = convert("F16", new Uint16Array(cases.map(([bits]) => bits)));
  assert.deepEqual(
    got,
    cases.map(([, value]) => value),
  );
  assert.ok(Object.is(got[1], -0));
  assert.ok(convert("F16", new Uint16Array([0x7e00, 0x7c01, 0xfe00])).every(Number.isNaN));
});

test("toFloat32Array() decodes F16 monotonically: larger bit patterns are larger positive numbers", () => {
  const bits = new Uint16Array(0x7c01);
  for (let index = 0; index < bits.length; index += 1) bits[index] = index;
  const values = convert("F16", bits);
  for (let index = 1; index < values.length; index += 1) assert.ok(values[index - 1]! < values[index]!, `at 0x${index.toString(16)}`);
});

test("toFloat32Array() decodes BF16 as the top half of a float32", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffff }), (bits) => {
      const view = new DataView(new ArrayBuffer(4));
      view.setUint32(0, bits << 16);
      const [value] = convert("BF16", new Uint16Array([bits]));
      assert.ok(Object.is(value, view.getFloat32(0)));
    }),
    { numRuns: 500 },
  );
});

test("toFloat32Array() decodes the F8 formats", () => {
  assert.deepEqual(convert("F8_E4M3", new Uint8Array([0x38, 0xb8, 0x7e, 0x08, 0x01, 0x00, 0x80])), [1, -1, 448, 2 ** -6, 2 ** -9, 0, -0]);
  assert.ok(convert("F8_E4M3", new Uint8Array([0x7f, 0xff])).every(Number.isNaN));
  assert.deepEqual(convert("F8_E5M2", new Uint8Array([0x3c, 0x7b, 0x01, 0x7c, 0xfc])), [1, 57344, 2 ** -16, Infinity, -Infinity]);
  assert.ok(Number.isNaN(convert("F8_E5M2", new Uint8Array([0x7d]))[0]));
  assert.deepEqual(convert("F8_E8M0", new Uint8Array([127, 128, 0])), [1, 2, 2 ** -127]);
  assert.ok(Number.isNaN(convert("F8_E8M0", new Uint8Array([0xff]))[0]));
});

test("toFloat32Array() converts integers, floats and booleans to the nearest float32", () => {
  assert.deepEqual(convert("F32", new Float32Array([1.5, -0.1])), [1.5, Math.fround(-0.1)]);
  assert.deepEqual(convert("F64", new Float64Array([0.1, 1e300])), [Math.fround(0.1), Infinity]);
  assert.deepEqual(convert("I64", new BigInt64Array([-3n, 2n ** 40n, 2n ** 63n - 1n])), [-3, 2 ** 40, 2 ** 63]);
  assert.deepEqual(convert("U64", new BigUint64Array([2n ** 64n - 1n])), [2 ** 64]);
  assert.deepEqual(convert("I32", new Int32Array([-2147483648, 16777217])), [-2147483648, 16777216]);
  assert.deepEqual(convert("U32", new Uint32Array([4294967295])), [4294967296]);
  assert.deepEqual(convert("I16", new Int16Array([-32768, 7])), [-32768, 7]);
  assert.deepEqual(convert("U16", new Uint16Array([65535])), [65535]);
  assert.deepEqual(convert("I8", new Int8Array([-128, 127])), [-128, 127]);
  assert.deepEqual(convert("U8", new Uint8Array([0, 255])), [0, 255]);
  assert.deepEqual(convert("BOOL", new Uint8Array([0, 1, 0])), [0, 1, 0]);
});

test("toFloat32Array() returns a new array even for F32 data", () => {
  const source = new Float32Array([1, 2]);
  const result = toFloat32Array({ dtype: "F32", data: bytesOf(source) });
  result[0] = 9;
  assert.equal(source[0], 1);
});

test("toFloat32Array() handles unaligned F16 data", () => {
  const backing = new Uint8Array(5);
  backing.set([0x00, 0x3c, 0x00, 0xc0], 1);
  assert.deepEqual([...toFloat32Array({ dtype: "F16", data: backing.subarray(1) })], [1, -2]);
});
