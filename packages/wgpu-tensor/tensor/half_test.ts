import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { fcRuns } from "../testing/mod.ts";
import { f16BitsToF32, f32ToF16Bits, float32ToHalfBits, halfBitsToFloat32 } from "./half.ts";

/** The finite non-negative halves in increasing order, decoded by the textbook formula. */
const finiteHalves = Array.from({ length: 0x7c00 }, (_, bits) => {
  const exponent = bits >>> 10;
  const mantissa = bits & 0x3ff;
  return exponent === 0 ? mantissa / 2 ** 24 : (1 + mantissa / 1024) * 2 ** (exponent - 15);
});

/**
 * Plain reference: the nearest finite half by binary search over all of them, ties to the even bit
 * pattern; 65520 (halfway to 2¹⁶) and up is inf; NaN is the quiet NaN; the sign is the f32's sign bit.
 */
function referenceHalf(bits: number): number {
  const value = new Float32Array(new Uint32Array([bits >>> 0]).buffer)[0]!;
  const sign = bits & 0x80000000 ? 0x8000 : 0;
  if (Number.isNaN(value)) return sign | 0x7e00;
  const magnitude = Math.abs(value);
  if (magnitude >= 65520) return sign | 0x7c00;
  let low = 0;
  let high = finiteHalves.length - 1; // finiteHalves[low] ≤ magnitude < finiteHalves[high] once narrowed
  while (high - low > 1) {
    const middle = (low + high) >>> 1;
    if (finiteHalves[middle]! <= magnitude) low = middle;
    else high = middle;
  }
  if (magnitude >= finiteHalves[high]!) return sign | high;
  const below = magnitude - finiteHalves[low]!;
  const above = finiteHalves[high]! - magnitude;
  if (below < above) return sign | low;
  if (above < below) return sign | high;
  return sign | (low % 2 === 0 ? low : high);
}

const bitsOf = (value: number) => new Uint32Array(new Float32Array([value]).buffer)[0]!;
const fromBits = (bits: number) => new Float32Array(new Uint32Array([bits >>> 0]).buffer)[0]!;
const hex = (n: number) => `0x${n.toString(16)}`;

function checkBits(bits: number): void {
  const value = fromBits(bits);
  const want = referenceHalf(bits);
  const bulk = float32ToHalfBits(new Float32Array([value]))[0]!;
  assert.equal(bulk, want, `float32ToHalfBits(${value} = ${hex(bits >>> 0)}) gave ${hex(bulk)}, want ${hex(want)}`);
  assert.equal(f32ToF16Bits(value), want, `f32ToF16Bits(${value})`);
}

const awkward = [
  0,
  -0,
  Infinity,
  -Infinity,
  NaN,
  -NaN,
  65504,
  -65504,
  65505,
  65519,
  65519.99609375,
  65520,
  -65520,
  65536,
  1e6,
  3.4028234663852886e38,
  2 ** -14,
  2 ** -14 - 2 ** -25,
  2 ** -14 - 2 ** -24,
  2 ** -24,
  2 ** -25,
  -(2 ** -25),
  2 ** -25 + 2 ** -48,
  3 * 2 ** -26,
  3 * 2 ** -25,
  5 * 2 ** -25,
  1e-45,
  -1e-45,
  1.17549435e-38,
  1 + 2 ** -11,
  1 + 3 * 2 ** -11,
  1 + 2 ** -11 + 2 ** -23,
  2049,
  2051,
  4097,
  4099,
  -2051,
];

describe("f32 → f16 on the host", () => {
  test("awkward values match the nearest-half reference (±0, ±inf, NaN, 65504/65520, subnormals, ties)", () => {
    for (const value of awkward) checkBits(bitsOf(value));
    for (const bits of [0x7f800001, 0xffc00000, 0x7fffffff, 0x00000001, 0x807fffff]) checkBits(bits);
  });

  test("every midpoint between adjacent halves, and the f32 values next to it, round as the reference", () => {
    for (let bits = 0; bits < 0x7bff; bits++) {
      const middle = bitsOf((finiteHalves[bits]! + finiteHalves[bits + 1]!) / 2); // exact in f32
      for (const b of [middle - 1, middle, middle + 1]) {
        checkBits(b);
        checkBits(b | 0x80000000);
      }
    }
  });

  test("random f32 bit patterns and floats match the reference; bulk equals scalar", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.float().map(bitsOf)), { maxLength: 64 }), (patterns) => {
        const values = new Float32Array(new Uint32Array(patterns).buffer);
        const halves = float32ToHalfBits(values);
        patterns.forEach((bits, i) => {
          assert.equal(halves[i], referenceHalf(bits), `${values[i]} (${hex(bits)})`);
          assert.equal(f32ToF16Bits(values[i]!), halves[i]);
        });
      }),
      { numRuns: fcRuns(200) },
    );
  });

  test("a view with a byte offset converts only its own values, into a given array", () => {
    const backing = new Float32Array([7, 1, -2, 0.5, 9]);
    const out = new Uint16Array(4).fill(0xaaaa);
    float32ToHalfBits(backing.subarray(1, 4), out);
    assert.deepEqual([...out], [0x3c00, 0xc000, 0x3800, 0xaaaa]);
    assert.deepEqual([...float32ToHalfBits([1, -2])], [0x3c00, 0xc000]);
    assert.throws(() => float32ToHalfBits(backing, new Uint16Array(2)), RangeError);
  });
});

describe("f16 → f32 on the host", () => {
  test("every bit pattern decodes as the textbook formula, and finite ones round-trip", () => {
    const all = new Uint16Array(0x10000).map((_, i) => i);
    const decoded = halfBitsToFloat32(all);
    const back = float32ToHalfBits(decoded);
    for (let bits = 0; bits < 0x10000; bits++) {
      const magnitude = bits & 0x7fff;
      const sign = bits & 0x8000 ? -1 : 1;
      const want = magnitude < 0x7c00 ? sign * finiteHalves[magnitude]! : magnitude === 0x7c00 ? sign * Infinity : NaN;
      assert.ok(Object.is(decoded[bits], want), `${hex(bits)} decoded to ${decoded[bits]}, want ${want}`);
      assert.ok(Object.is(f16BitsToF32(bits), want));
      if (magnitude <= 0x7c00) assert.equal(back[bits], bits, `${hex(bits)} does not round-trip`);
    }
    assert.throws(() => halfBitsToFloat32(all, new Float32Array(3)), RangeError);
  });
});
