import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { fcRuns } from "../../testing/mod.ts";
import { blocksFor, mulhi32, philox4x32, randomBitsReference, seedKey } from "./philox_reference.ts";

const u32 = fc.integer({ min: 0, max: 0xffffffff });

/** Philox 4x32 written independently with BigInt arithmetic, straight from the paper's round. */
function philoxBigInt(counter: number[], key: number[], rounds: number): number[] {
  const mask = 0xffffffffn;
  let c = counter.map(BigInt);
  let k = key.map(BigInt);
  for (let round = 0; round < rounds; round++) {
    if (round > 0) k = [(k[0] + 0x9e3779b9n) & mask, (k[1] + 0xbb67ae85n) & mask];
    const p0 = 0xd2511f53n * c[0];
    const p1 = 0xcd9e8d57n * c[2];
    c = [((p1 >> 32n) ^ c[1] ^ k[0]) & mask, p1 & mask, ((p0 >> 32n) ^ c[3] ^ k[1]) & mask, p0 & mask];
  }
  return c.map(Number);
}

describe("Philox 4x32-10 reference", () => {
  // Random123 1.14, examples/kat_vectors, lines "philox4x32 10 …": counter, key, expected output
  const knownAnswers: [number[], number[], number[]][] = [
    [
      [0, 0, 0, 0],
      [0, 0],
      [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8],
    ],
    [
      [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
      [0xffffffff, 0xffffffff],
      [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
    ],
    [
      [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
      [0xa4093822, 0x299f31d0],
      [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
    ],
  ];

  for (const [counter, key, expected] of knownAnswers) {
    const name = counter.map((w) => w.toString(16)).join(",");
    test(`philox4x32() reproduces Random123's known answer for counter ${name}`, () => {
      assert.deepEqual(philox4x32(counter, key), expected);
    });
  }

  test("mulhi32() equals the high word of the exact 64-bit product", () => {
    fc.assert(
      fc.property(u32, u32, (a, b) => {
        assert.equal(mulhi32(a, b), Number((BigInt(a) * BigInt(b)) >> 32n));
      }),
      {
        numRuns: 2000,
        examples: [
          [0xffffffff, 0xffffffff],
          [0, 0xffffffff],
          [0xffff, 0xffff],
          [0x10000, 0xffff0000],
        ],
      },
    );
  });

  test("philox4x32() agrees with an independent BigInt implementation for any round count", () => {
    fc.assert(
      fc.property(
        fc.array(u32, { minLength: 4, maxLength: 4 }),
        fc.array(u32, { minLength: 2, maxLength: 2 }),
        fc.integer({ min: 1, max: 12 }),
        (counter, key, rounds) => {
          assert.deepEqual(philox4x32(counter, key, rounds), philoxBigInt(counter, key, rounds));
        },
      ),
      { numRuns: fcRuns(200) },
    );
  });

  test("seedKey() splits seeds up to 2^53 into low and high words", () => {
    assert.deepEqual(seedKey(0), [0, 0]);
    assert.deepEqual(seedKey(0xffffffff), [0xffffffff, 0]);
    assert.deepEqual(seedKey(2 ** 32), [0, 1]);
    assert.deepEqual(seedKey(Number.MAX_SAFE_INTEGER), [0xffffffff, 0x1fffff]);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (seed) => {
        const [low, high] = seedKey(seed);
        assert.equal(BigInt(high) * 2n ** 32n + BigInt(low), BigInt(seed));
      }),
    );
  });

  test("element i of a stream depends only on seed, offset and i", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 53 - 1 }),
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 0, max: 10 }),
        (seed, offset, size, skip) => {
          const long = randomBitsReference(size + 4 * skip, seed, offset);
          const shifted = randomBitsReference(size, seed, offset + skip);
          assert.deepEqual(shifted, long.subarray(4 * skip));
          // and block n is the Philox output of counter (n mod 2^32, n / 2^32, 0, 0) under the seed's key
          const n = offset + skip;
          const words = philoxBigInt([n % 2 ** 32, Math.floor(n / 2 ** 32), 0, 0], seedKey(seed), 10);
          assert.deepEqual([...shifted.subarray(0, Math.min(4, size))], words.slice(0, Math.min(4, size)));
        },
      ),
      { numRuns: fcRuns(100) },
    );
  });

  test("offsets carry from the low counter word into the high one", () => {
    const seed = 7;
    const acrossCarry = randomBitsReference(12, seed, 2 ** 32 - 2);
    assert.deepEqual([...acrossCarry.subarray(8, 12)], philox4x32([0, 1, 0, 0], seedKey(seed)));
  });

  test("blocksFor() counts four elements per block, rounding up", () => {
    assert.deepEqual([0, 1, 4, 5, 8, 9].map(blocksFor), [0, 1, 1, 2, 2, 3]);
  });
});
