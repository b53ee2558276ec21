import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { arbBroadcastPair, arbShape, checkAgainstReference, fcRuns, randomHost, testDevice, toleranceFor } from "../../testing/mod.ts";
import type { Device } from "../../device/device.ts";
import { elementwiseOps } from "./elementwise_ops.ts";
import { collapseDims } from "./elementwise_layout.ts";
import assert from "node:assert/strict";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

/** Input ranges where each op is defined and well-conditioned. */
const domains: Record<string, [number, number]> = {
  log: [0.05, 4],
  sqrt: [0, 4],
  rsqrt: [0.05, 4],
  reciprocal: [0.2, 3],
  pow: [0.1, 3],
  exp: [-8, 8],
};
/** WGSL allows some functions a few ULPs (exp: 3 + 2|x|, log/pow: 3–4); tanh and erf are approximated. */
const ulpFactors: Record<string, number> = { exp: 4, pow: 8, tanh: 4, gelu: 4, geluTanh: 4, erf: 4, sigmoid: 2, silu: 2, sin: 64, cos: 64 };

const unaryNames = Object.keys(elementwiseOps).filter(
  (name) =>
    name in
    {
      neg: 1,
      abs: 1,
      sign: 1,
      exp: 1,
      log: 1,
      sqrt: 1,
      rsqrt: 1,
      reciprocal: 1,
      square: 1,
      sin: 1,
      cos: 1,
      floor: 1,
      tanh: 1,
      sigmoid: 1,
      relu: 1,
      silu: 1,
      gelu: 1,
      geluTanh: 1,
      erf: 1,
    },
);
const binaryNames = ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge"] as const;

describe("elementwise ops", () => {
  for (const name of unaryNames) {
    test(`${name}() matches the reference on random shapes`, async () => {
      const [low, high] = domains[name] ?? [-4, 4];
      await fc.assert(
        fc.asyncProperty(arbShape({ maxRank: 4 }), fc.integer(), async (shape, seed) => {
          const x = randomHost(shape, seed, { low, high });
          // erf's 1.2e-7 absolute error dominates near zero crossings: give it an absolute floor
          const tolerance = toleranceFor("f32", 1, ulpFactors[name] ?? 1);
          if (name === "erf" || name === "gelu") tolerance.atol = Math.max(tolerance.atol, 3e-7 * (name === "gelu" ? 4 : 1));
          await checkAgainstReference(elementwiseOps[name as keyof typeof elementwiseOps], [x], { scalars: [null] }, tolerance);
        }),
        { numRuns: fcRuns(6) },
      );
    });
  }

  for (const name of binaryNames) {
    test(`${name}() matches the reference under broadcasting`, async () => {
      const [low, high] = domains[name] ?? [-3, 3];
      await fc.assert(
        fc.asyncProperty(arbBroadcastPair(), fc.integer(), async ([shapeA, shapeB], seed) => {
          const a = randomHost(shapeA, seed, { low, high });
          // comparisons need ties to be exercised: draw b from a coarse grid for them
          const b = randomHost(shapeB, seed + 1, { low: name === "div" ? 0.5 : low, high });
          if (["eq", "ne", "le", "ge"].includes(name)) b.data.forEach((_, i) => (b.data[i] = Math.round(b.data[i])));
          if (["eq", "ne", "le", "ge"].includes(name)) a.data.forEach((_, i) => (a.data[i] = Math.round(a.data[i])));
          await checkAgainstReference(
            elementwiseOps[name],
            [a, b],
            { scalars: [null, null] },
            toleranceFor("f32", 1, ulpFactors[name] ?? 2),
          );
        }),
        { numRuns: fcRuns(8) },
      );
    });
  }

  test("a number operand on either side travels as a parameter and matches the reference", async () => {
    await fc.assert(
      fc.asyncProperty(
        arbShape(),
        fc.integer(),
        fc.double({ min: -5, max: 5, noNaN: true }).filter((v) => Math.abs(v) > 1e-3) /* GPUs flush subnormals to zero */,
        fc.boolean(),
        async (shape, seed, value, numberFirst) => {
          const x = randomHost(shape, seed, { low: 0.5, high: 2 });
          const scalar = Math.fround(value);
          const inputs = [x];
          const scalars = numberFirst ? [scalar, null] : [null, scalar];
          for (const name of ["sub", "div", "mul"] as const) {
            await checkAgainstReference(elementwiseOps[name], inputs, { scalars }, toleranceFor("f32", 1, 2));
          }
        },
      ),
      { numRuns: fcRuns(6) },
    );
  });

  test("where() and clamp() match the reference with broadcast operands", async () => {
    await fc.assert(
      fc.asyncProperty(arbBroadcastPair({ maxRank: 3 }), fc.integer(), async ([shapeA, shapeB], seed) => {
        const condition = randomHost(shapeA, seed, { low: -1, high: 1 });
        condition.data.forEach((v, i) => (condition.data[i] = v > 0 ? 1 : 0));
        const a = randomHost(shapeB, seed + 1);
        const b = randomHost(shapeA, seed + 2);
        await checkAgainstReference(elementwiseOps.where, [condition, a, b], { scalars: [null, null, null] }, toleranceFor("f32"));
        await checkAgainstReference(elementwiseOps.clamp, [a], { scalars: [null, -0.25, 0.5] }, toleranceFor("f32"));
      }),
      { numRuns: fcRuns(6) },
    );
  });

  test("f16 storage computes in f32 and rounds once on store", async () => {
    await fc.assert(
      fc.asyncProperty(arbBroadcastPair({ maxRank: 3 }), fc.integer(), async ([shapeA, shapeB], seed) => {
        const a = randomHost(shapeA, seed, { dtype: "f16" });
        const b = randomHost(shapeB, seed + 1, { dtype: "f16" });
        for (const name of ["add", "mul"] as const) {
          await checkAgainstReference(elementwiseOps[name], [a, b], { scalars: [null, null] }, toleranceFor("f16"));
        }
        await checkAgainstReference(elementwiseOps.silu, [a], { scalars: [null] }, toleranceFor("f16", 1, 2));
      }),
      { numRuns: fcRuns(4) },
    );
  });

  test("integer add and mul are exact on i32", async () => {
    await fc.assert(
      fc.asyncProperty(arbBroadcastPair({ maxRank: 3 }), fc.integer(), async ([shapeA, shapeB], seed) => {
        const a = randomHost(shapeA, seed, { dtype: "i32", low: -1000, high: 1000 });
        const b = randomHost(shapeB, seed + 1, { dtype: "i32", low: -1000, high: 1000 });
        await checkAgainstReference(elementwiseOps.add, [a, b], { scalars: [null, null] }, { atol: 0, rtol: 0 });
        await checkAgainstReference(elementwiseOps.mul, [a], { scalars: [null, 7] }, { atol: 0, rtol: 0 });
      }),
      { numRuns: fcRuns(4) },
    );
  });

  test("collapseDims() merges dimensions every operand walks contiguously", () => {
    const merged = collapseDims(
      [2, 3, 4],
      [
        [12, 4, 1],
        [0, 0, 1],
      ],
    );
    assert.deepEqual(merged.shape, [6, 4]);
    assert.deepEqual(merged.strides, [
      [4, 1],
      [0, 1],
    ]);
    const broadcastRow = collapseDims(
      [5, 1, 7],
      [
        [7, 7, 1],
        [0, 0, 1],
      ],
    );
    assert.deepEqual(broadcastRow.shape, [5, 7]);
  });
});
