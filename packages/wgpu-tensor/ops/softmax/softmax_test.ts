import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { Device } from "../../device/device.ts";
import { f16BitsToF32, f32ToF16Bits } from "../../tensor/dtype.ts";
import { DTypeError, ShapeError } from "../../tensor/errors.ts";
import { arbShape, assertClose, checkAgainstReference, fcRuns, fromHost, randomHost, testDevice, toleranceFor } from "../../testing/mod.ts";
import { checkGradients } from "../../autograd/grad_check.ts";
import { checkVariantAgainstReference } from "../../testing/check_reference.ts";
import { logSoftmax, softmax, softmaxOps } from "./softmax.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

/** f32 gradients vs f64 central differences: sums over a few dozen terms, a few ULPs each. */
const GRAD_TOLERANCE = { atol: 2e-4, rtol: 2e-3 };

/** A shape of rank ≥ 1 and one of its axes, written negative half of the time. */
const arbSoftmax = arbShape({ minRank: 1, maxRank: 4, maxDim: 70 }).chain((shape) =>
  fc.record({
    shape: fc.constant(shape),
    axis: fc.integer({ min: -shape.length, max: shape.length - 1 }),
    seed: fc.integer(),
  }),
);

/** WGSL's exp may be off by a few ULPs, and the row sum adds √length roundings. */
function softmaxTolerance(dtype: "f32" | "f16", shape: readonly number[], axis: number) {
  const length = shape[axis < 0 ? axis + shape.length : axis];
  return toleranceFor(dtype, length, 4);
}

describe("softmax and logSoftmax", () => {
  for (const name of ["softmax", "logSoftmax"] as const) {
    test(`${name}() matches the reference along any axis`, async () => {
      await fc.assert(
        fc.asyncProperty(arbSoftmax, async ({ shape, axis, seed }) => {
          const x = randomHost(shape, seed, { low: -8, high: 8 });
          const attrs = { axis: axis < 0 ? axis + shape.length : axis };
          await checkAgainstReference(softmaxOps[name], [x], attrs, softmaxTolerance("f32", shape, axis));
        }),
        { numRuns: fcRuns(16) },
      );
    });

    test(`${name}() stays finite for inputs far beyond exp's range`, async () => {
      // exp(1000) overflows f32: only the max subtraction keeps these finite
      const x = randomHost([5, 33], 9, { low: 900, high: 1100 });
      await checkAgainstReference(softmaxOps[name], [x], { axis: 1 }, { atol: 1e-5, rtol: 1e-4 });
    });

    test(`${name}() reads f16, computes in f32 and stores f16`, async () => {
      await fc.assert(
        fc.asyncProperty(arbSoftmax, async ({ shape, axis, seed }) => {
          const x = randomHost(shape, seed, { dtype: "f16", low: -4, high: 4 });
          // randomHost's 1/1024 grid is not exact in f16 above 2: round as the upload will
          x.data.forEach((v, i) => (x.data[i] = f16BitsToF32(f32ToF16Bits(v))));
          const attrs = { axis: axis < 0 ? axis + shape.length : axis };
          // one f16 rounding of the result dominates; logSoftmax values reach ~|x|+log(length)
          const tolerance = softmaxTolerance("f16", shape, axis);
          await checkAgainstReference(softmaxOps[name], [x], attrs, tolerance);
        }),
        { numRuns: fcRuns(6) },
      );
    });
  }

  test("the GPU variant of both kernels matches the reference", async () => {
    await fc.assert(
      fc.asyncProperty(arbSoftmax, fc.boolean(), async ({ shape, axis, seed }, isLog) => {
        const x = randomHost(shape, seed, { low: -8, high: 8 });
        const attrs = { axis: axis < 0 ? axis + shape.length : axis };
        const def = isLog ? softmaxOps.logSoftmax : softmaxOps.softmax;
        await checkVariantAgainstReference(def, [x], attrs, softmaxTolerance("f32", shape, axis), { isCpuAdapter: false });
      }),
      { numRuns: fcRuns(8) },
    );
  });

  test("the gradients of softmax() and logSoftmax() match finite differences", async () => {
    await fc.assert(
      fc.asyncProperty(arbShape({ minRank: 1, maxRank: 3, maxDim: 6, maxSize: 60 }), fc.integer(), fc.nat(), async (shape, seed, pick) => {
        const x = randomHost(shape, seed, { low: -3, high: 3 });
        const attrs = { axis: pick % shape.length };
        await checkGradients(softmaxOps.softmax, [x], attrs, { tolerance: GRAD_TOLERANCE, seed });
        await checkGradients(softmaxOps.logSoftmax, [x], attrs, { tolerance: GRAD_TOLERANCE, seed });
      }),
      { numRuns: fcRuns(8) },
    );
  });

  test("softmax() rows sum to one and logSoftmax() is its log", async () => {
    const host = randomHost([3, 101], 4, { low: -20, high: 20 });
    const x = fromHost(host);
    const probabilities = softmax(x);
    const logs = logSoftmax(x);
    const p = Array.from(await probabilities.toArray());
    const l = await logs.toArray();
    const rowSums = [0, 1, 2].map((row) => p.slice(row * 101, (row + 1) * 101).reduce((a, b) => a + b, 0));
    assertClose(rowSums, [1, 1, 1], toleranceFor("f32", 101, 4));
    assertClose(Array.from(l, Math.exp), p, toleranceFor("f32", 101, 8));
    [x, probabilities, logs].forEach((t) => t.dispose());
  });

  test("a bad axis or an integer tensor is rejected before any GPU work", () => {
    const x = fromHost(randomHost([2, 3], 1));
    const ints = fromHost(randomHost([2, 3], 1, { dtype: "i32" }));
    assert.throws(
      () => softmax(x, 2),
      (e: Error) =>
        e instanceof ShapeError &&
        /Cannot run softmax over axis 2 of a tensor of shape \[2, 3\]: axes must lie in \[-2, 1\]/.test(e.message),
    );
    assert.throws(() => logSoftmax(x, -3), ShapeError);
    assert.throws(
      () => softmax(ints),
      (e: Error) => e instanceof DTypeError && /needs a float tensor/.test(e.message),
    );
    [x, ints].forEach((t) => t.dispose());
  });
});
