import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { Device } from "../../device/device.ts";
import { ShapeError } from "../../tensor/errors.ts";
import { sizeOf } from "../../tensor/shape.ts";
import { arbShape, checkAgainstReference, fcRuns, fromHost, randomHost, testDevice, toleranceFor } from "../../testing/mod.ts";
import { checkGradients } from "../../autograd/grad_check.ts";
import { broadcastTo, broadcastToOp, sumToShape, sumToShapeOp } from "./sum_to_shape.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

/** f32 gradients vs f64 central differences: sums over a few dozen terms, a few ULPs each. */
const GRAD_TOLERANCE = { atol: 2e-4, rtol: 2e-3 };

/** A shape and a smaller one that broadcasts to it: some dimensions set to 1, some leading ones dropped. */
function arbBroadcastTarget(options: { maxDim?: number; maxSize?: number } = {}): fc.Arbitrary<[number[], number[]]> {
  return arbShape({ maxRank: 5, maxDim: options.maxDim ?? 30, maxSize: options.maxSize ?? 20000 }).chain((full) =>
    fc
      .tuple(fc.array(fc.boolean(), { minLength: full.length, maxLength: full.length }), fc.integer({ min: 0, max: full.length }))
      .map(([ones, drop]) => [full, full.map((dim, i) => (ones[i] ? 1 : dim)).slice(drop)] as [number[], number[]]),
  );
}

describe("sumToShape and broadcastTo", () => {
  test("sumToShape() matches the reference for every way a shape broadcasts", async () => {
    await fc.assert(
      fc.asyncProperty(arbBroadcastTarget(), fc.integer(), async ([full, small], seed) => {
        const x = randomHost(full, seed);
        const summed = sizeOf(full) / Math.max(1, sizeOf(small));
        await checkAgainstReference(sumToShapeOp, [x], { shape: small }, toleranceFor("f32", summed));
      }),
      { numRuns: fcRuns(20) },
    );
  });

  test("sumToShape() splits a long sum over few outputs and stays accurate", async () => {
    // 3 outputs of 2·40000 elements each: the CPU path splits each sum into chunks and combines them
    const x = randomHost([2, 40000, 3], 7);
    await checkAgainstReference(sumToShapeOp, [x], { shape: [3] }, toleranceFor("f32", 80000));
    await checkAgainstReference(sumToShapeOp, [x], { shape: [1, 1, 1] }, toleranceFor("f32", 240000));
  });

  test("sumToShape() is exact on i32", async () => {
    await fc.assert(
      fc.asyncProperty(arbBroadcastTarget({ maxSize: 5000 }), fc.integer(), async ([full, small], seed) => {
        const x = randomHost(full, seed, { dtype: "i32", low: -100, high: 100 });
        await checkAgainstReference(sumToShapeOp, [x], { shape: small }, { atol: 0, rtol: 0 });
      }),
      { numRuns: fcRuns(6) },
    );
  });

  test("broadcastTo() matches the reference", async () => {
    await fc.assert(
      fc.asyncProperty(arbBroadcastTarget(), fc.integer(), async ([full, small], seed) => {
        const x = randomHost(small, seed);
        await checkAgainstReference(broadcastToOp, [x], { shape: full }, { atol: 0, rtol: 0 });
      }),
      { numRuns: fcRuns(12) },
    );
  });

  test("the gradients of sumToShape() and broadcastTo() match finite differences", async () => {
    await fc.assert(
      fc.asyncProperty(arbBroadcastTarget({ maxDim: 5, maxSize: 60 }), fc.integer(), async ([full, small], seed) => {
        await checkGradients(sumToShapeOp, [randomHost(full, seed)], { shape: small }, { tolerance: GRAD_TOLERANCE, seed });
        await checkGradients(broadcastToOp, [randomHost(small, seed)], { shape: full }, { tolerance: GRAD_TOLERANCE, seed });
      }),
      { numRuns: fcRuns(8) },
    );
  });

  test("sumToShape() and broadcastTo() give the documented values", async () => {
    const x = fromHost({ shape: [2, 3], dtype: "f32", data: Float64Array.from([1, 2, 3, 4, 5, 6]) });
    const columns = sumToShape(x, [3]);
    const rows = sumToShape(x, [2, 1]);
    const row = fromHost({ shape: [3], dtype: "f32", data: Float64Array.from([1, 2, 3]) });
    const tiled = broadcastTo(row, [2, 3]);
    assert.deepEqual([...(await columns.toArray())], [5, 7, 9]);
    assert.deepEqual([...(await rows.toArray())], [6, 15]);
    assert.deepEqual([...(await tiled.toArray())], [1, 2, 3, 1, 2, 3]);
    [x, columns, rows, row, tiled].forEach((t) => t.dispose());
  });

  test("shapes that do not broadcast are rejected before any GPU work", () => {
    const x = fromHost(randomHost([2, 3], 1));
    assert.throws(
      () => sumToShape(x, [2]),
      (e: Error) => e instanceof ShapeError && /Cannot run sumToShape from \[2, 3\] to \[2\]/.test(e.message),
    );
    assert.throws(() => sumToShape(x, [1, 2, 3]), ShapeError);
    assert.throws(
      () => broadcastTo(x, [3, 3]),
      (e: Error) => e instanceof ShapeError && /Cannot broadcast \[2, 3\] to \[3, 3\]/.test(e.message),
    );
    assert.throws(() => broadcastTo(x, [3]), ShapeError);
    x.dispose();
  });
});
