import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { fcRuns, seededValues } from "../../testing/mod.ts";
import {
  boxMullerBits,
  boxMullerExact,
  LN_TABLE,
  negLogUnit,
  RSQRT_TABLE,
  sinCosTurns,
  sqrtTwice,
  toF32Bits,
} from "./box_muller_reference.ts";

const f32 = new Float32Array(1);
const bitsOf = new Uint32Array(f32.buffer);

function fromBits(bits: number): number {
  bitsOf[0] = bits;
  return f32[0];
}

/** Every `stride`-th value of [0, count), plus the last one: a sweep that keeps the test fast. */
function* sweep(count: number, stride: number): Generator<number> {
  for (let i = 0; i < count; i += stride) yield i;
  yield count - 1;
}

describe("integer Box–Muller reference", () => {
  test("its tables agree with Math.log and Math.sqrt to within one unit", () => {
    LN_TABLE.forEach((entry, j) => assert.ok(Math.abs(entry - Math.log1p(j / 64) * 2 ** 32) <= 1, `LN_TABLE[${j}]`));
    for (let i = 4; i < 16; i++) {
      assert.ok(Math.abs(RSQRT_TABLE[i] - 2 ** 31 / Math.sqrt((i + 0.5) / 8)) <= 1, `RSQRT_TABLE[${i}]`);
    }
  });

  test("negLogUnit() is within a relative 2^-29 of −ln u over a sweep of all 2^23 inputs", () => {
    let worst = 0;
    for (const k of sweep(2 ** 23, 97)) {
      const m = 2 * k + 1;
      const { mantissa, exponent } = negLogUnit(m);
      const exact = -Math.log(m * 2 ** -24);
      worst = Math.max(worst, Math.abs(mantissa * 2 ** exponent - exact) / exact);
    }
    assert.ok(worst < 2 ** -29, `worst relative error ${worst}`);
  });

  test("sqrtTwice() is within a relative 2^-27 of √(2L) for L across its whole range", () => {
    let worst = 0;
    for (const k of sweep(2 ** 23, 89)) {
      const L = negLogUnit(2 * k + 1);
      const { mantissa, exponent } = sqrtTwice(L);
      const exact = Math.sqrt(2 * L.mantissa * 2 ** L.exponent);
      worst = Math.max(worst, Math.abs(mantissa * 2 ** exponent - exact) / exact);
    }
    assert.ok(worst < 2 ** -27, `worst relative error ${worst}`);
  });

  test("sinCosTurns() is within a relative 2^-29 of sin and cos over a sweep of all 2^24 angles, octant edges included", () => {
    let worst = 0;
    const edges = Array.from({ length: 9 }, (_, o) => [o * 2 ** 21 - 1, o * 2 ** 21, o * 2 ** 21 + 1])
      .flat()
      .filter((v) => v >= 0 && v < 2 ** 24);
    for (const v of [...sweep(2 ** 24, 61), ...edges]) {
      const { sin, cos, isSinNegative, isCosNegative } = sinCosTurns(v);
      const theta = 2 * Math.PI * v * 2 ** -24;
      const s = (isSinNegative ? -1 : 1) * sin.mantissa * 2 ** sin.exponent;
      const c = (isCosNegative ? -1 : 1) * cos.mantissa * 2 ** cos.exponent;
      for (const [got, exact] of [
        [s, Math.sin(theta)],
        [c, Math.cos(theta)],
      ]) {
        // relative; Math.cos(π/2) ≈ 6e-17 marks an exact 0, where the error is absolute
        const scale = Math.abs(exact) < 1e-12 ? 1 : Math.abs(exact);
        worst = Math.max(worst, Math.abs(got - exact) / scale);
      }
    }
    assert.ok(worst < 2 ** -29, `worst error ${worst}`);
  });

  test("toF32Bits() rounds to nearest even like Math.fround", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 0xffffffff }), fc.integer({ min: -60, max: 60 }), fc.boolean(), (p, exponent, isNegative) => {
        const exact = (isNegative ? -p : p) * 2 ** exponent;
        assert.equal(fromBits(toF32Bits(p, exponent, isNegative)), Math.fround(exact));
      }),
      {
        numRuns: 5000,
        examples: [
          [0x800000ff, 0, false],
          [0x80000180, 0, false],
          [0x80000080, 0, true],
          [0xffffffff, -3, false],
        ],
      },
    );
  });

  test("boxMullerBits() is within half an f32 ulp plus a relative 2^-26 of exact Box–Muller", () => {
    const words = seededValues(99, 400000, 0, 2 ** 32);
    const extremes = [0, 1, 0x1ff, 0x200, 0x7fffffff, 0x80000000, 0xbffffe00, 0xc0000000, 0xfffffdff, 0xfffffe00, 0xffffffff];
    const pairs: [number, number][] = [];
    for (let i = 0; i < words.length; i += 2) pairs.push([Math.floor(words[i]), Math.floor(words[i + 1])]);
    for (const a of extremes) for (const b of extremes) pairs.push([a, b]);
    for (const [a, b] of pairs) {
      const got = boxMullerBits(a, b).map(fromBits);
      const exact = boxMullerExact(a, b);
      for (let k = 0; k < 2; k++) {
        // the 1e-12 only absorbs Math.sin(π) ≈ 1.2e-16 where the exact value is 0
        const allowed = Math.abs(exact[k]) * (2 ** -24 + 2 ** -26) + 1e-12;
        assert.ok(Math.abs(got[k] - exact[k]) <= allowed, `boxMullerBits(${a}, ${b})[${k}] = ${got[k]}, exact ${exact[k]}`);
      }
    }
  });

  test("boxMullerBits() never produces a non-finite value and stays within √(48 ln 2)", () => {
    const bound = Math.sqrt(48 * Math.LN2);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), (a, b) => {
        for (const z of boxMullerBits(a, b).map(fromBits)) assert.ok(Number.isFinite(z) && Math.abs(z) <= bound, `${z}`);
      }),
      {
        numRuns: fcRuns(5000),
        examples: [
          [0, 0],
          [0, 0xffffffff],
          [0xffffffff, 0],
          [0xffffffff, 0xffffffff],
        ],
      },
    );
  });
});
