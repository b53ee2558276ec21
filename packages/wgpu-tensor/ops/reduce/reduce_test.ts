import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { Device } from "../../device/device.ts";
import { DTypeError, ShapeError } from "../../tensor/errors.ts";
import type { HostTensor } from "../../tensor/host_tensor.ts";
import {
  arbShape,
  assertClose,
  checkAgainstReference,
  fcRuns,
  fromHost,
  randomHost,
  testDevice,
  toHost,
  toleranceFor,
} from "../../testing/mod.ts";
import { checkGradients } from "../../autograd/grad_check.ts";
import { checkVariantAgainstReference } from "../../testing/check_reference.ts";
import { normalizeAxes, reduceGeometry } from "./reduce_geometry.ts";
import { reducePasses } from "./reduce_kernel.ts";
import type { OpDef } from "../op_def.ts";
import type { ReduceAttrs } from "./reduce_ops.ts";
import { argmax, max, reduceOps, sum, variance } from "./reduce_ops.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

/** f32 gradients vs f64 central differences: sums over a few dozen terms, a few ULPs each. */
const GRAD_TOLERANCE = { atol: 2e-4, rtol: 2e-3 };

/** A shape, a subset of its axes (some written negative) or `null` for all, and keepDim. */
function arbReduction(options: { maxSize?: number } = {}) {
  return arbShape({ maxRank: 5, maxDim: 40, maxSize: options.maxSize ?? 20000 }).chain((shape) =>
    fc.record({
      shape: fc.constant(shape),
      axes: fc.oneof(
        fc.constant(null),
        fc
          .subarray(shape.map((_, axis) => axis))
          .chain((axes) =>
            fc
              .array(fc.boolean(), { minLength: axes.length, maxLength: axes.length })
              .map((negative) => axes.map((axis, i) => (negative[i] ? axis - shape.length : axis))),
          ),
      ),
      keepDim: fc.boolean(),
      seed: fc.integer(),
    }),
  );
}

function reductionLength(shape: readonly number[], axes: readonly number[] | null): number {
  const normalized = normalizeAxes("test", shape, axes);
  return normalized.reduce((count, axis) => count * shape[axis], 1);
}

describe("reductions", () => {
  for (const op of ["sum", "mean", "max", "min", "variance"] as const) {
    test(`${op}() matches the reference over random shapes and axes`, async () => {
      await fc.assert(
        fc.asyncProperty(arbReduction(), fc.constantFrom(0, 1, 2), async ({ shape, axes, keepDim, seed }, correction) => {
          const x = randomHost(shape, seed);
          const axesList = normalizeAxes(op, shape, axes);
          const count = reductionLength(shape, axes);
          const isEmptyExtreme = (op === "max" || op === "min") && count === 0;
          fc.pre(!isEmptyExtreme);
          // variance is two sums (the mean, then the squares): twice a sum's rounding
          const tolerance = toleranceFor("f32", count, op === "variance" ? 2 : 1);
          const attrs = op === "variance" ? { axes: axesList, keepDim, correction } : { axes: axesList, keepDim };
          await checkAgainstReference(reduceOps[op], [x], attrs, tolerance);
        }),
        { numRuns: fcRuns(16) },
      );
    });
  }

  for (const op of ["argmax", "argmin"] as const) {
    test(`${op}() returns the first index among ties over random shapes`, async () => {
      await fc.assert(
        fc.asyncProperty(arbReduction(), fc.nat(), async ({ shape, keepDim, seed }, pick) => {
          fc.pre(shape.every((dim) => dim > 0));
          // values on a coarse grid so that ties are common
          const x = randomHost(shape, seed, { low: -3, high: 3 });
          x.data.forEach((v, i) => (x.data[i] = Math.round(v)));
          const axes = shape.length === 0 || pick % 3 === 0 ? normalizeAxes(op, shape, null) : [pick % shape.length];
          await checkAgainstReference(reduceOps[op], [x], { axes, keepDim }, { atol: 0, rtol: 0 });
        }),
        { numRuns: fcRuns(16) },
      );
    });
  }

  test("the GPU variants (more, shorter splits; wider workgroups) match the reference too", async () => {
    await fc.assert(
      fc.asyncProperty(
        arbReduction(),
        fc.constantFrom("sum", "mean", "max", "argmax", "variance" as const),
        async ({ shape, axes, keepDim, seed }, op) => {
          const count = reductionLength(shape, axes);
          fc.pre(count > 0 || op === "sum" || op === "mean");
          const x = randomHost(shape, seed);
          const axesList =
            op === "argmax" && axes !== null && axes.length > 1 ? [normalizeAxes(op, shape, axes)[0]] : normalizeAxes(op, shape, axes);
          const tolerance = op === "argmax" ? { atol: 0, rtol: 0 } : toleranceFor("f32", count, 2);
          await checkVariantAgainstReference(reduceOps[op], [x], { axes: axesList, keepDim, correction: 1 }, tolerance, {
            isCpuAdapter: false,
          });
        },
      ),
      { numRuns: fcRuns(12) },
    );
    const long = randomHost([3, 40009], 5);
    await checkVariantAgainstReference(
      reduceOps.variance,
      [long],
      { axes: [1], keepDim: false, correction: 1 },
      toleranceFor("f32", 40009, 2),
      { isCpuAdapter: false },
    );
    await checkVariantAgainstReference(
      reduceOps.argmax,
      [long],
      { axes: [0, 1], keepDim: false },
      { atol: 0, rtol: 0 },
      { isCpuAdapter: false },
    );
  });

  test("split reductions combine their partial chunks correctly for every op", async () => {
    const ops = ["sum", "mean", "max", "min", "argmax", "argmin", "variance"] as const;
    await fc.assert(
      fc.asyncProperty(
        arbReduction(),
        fc.constantFrom(...ops),
        fc.integer({ min: 2, max: 9 }),
        async ({ shape, axes, keepDim, seed }, op, splits) => {
          const count = reductionLength(shape, axes);
          fc.pre(count > 0);
          const isArg = op === "argmax" || op === "argmin";
          const axesList = isArg && axes !== null && axes.length > 1 ? [normalizeAxes(op, shape, axes)[0]] : normalizeAxes(op, shape, axes);
          const x = randomHost(shape, seed);
          if (isArg) x.data.forEach((v, i) => (x.data[i] = Math.round(4 * v)));
          const forced: OpDef<ReduceAttrs> = {
            ...reduceOps[op],
            kernel: ([input], attrs, output, context) => {
              const geometry = reduceGeometry(input.shape, attrs.axes);
              return reducePasses(
                { op, inDType: input.dtype, outDType: output.dtype, geometry, correction: attrs.correction, splits },
                context,
              );
            },
          };
          const tolerance = isArg ? { atol: 0, rtol: 0 } : toleranceFor("f32", reductionLength(shape, axesList), 2);
          await checkAgainstReference(forced, [x], { axes: axesList, keepDim, correction: 1 }, tolerance);
        },
      ),
      { numRuns: fcRuns(16) },
    );
  });

  test("the gradients of sum, mean, max, min and variance match finite differences", async () => {
    const ops = ["sum", "mean", "max", "min", "variance"] as const;
    await fc.assert(
      fc.asyncProperty(
        arbReduction({ maxSize: 60 }).filter(({ shape }) => shape.every((d) => d <= 6)),
        fc.constantFrom(...ops),
        async ({ shape, axes, keepDim, seed }, op) => {
          fc.pre(reductionLength(shape, axes) > 1 && shape.every((dim) => dim > 0));
          const x = randomHost(shape, seed);
          await checkGradients(
            reduceOps[op],
            [x],
            { axes: normalizeAxes(op, shape, axes), keepDim, correction: 1 },
            { tolerance: GRAD_TOLERANCE, seed },
          );
        },
      ),
      { numRuns: fcRuns(16) },
    );
  });

  test("an empty axis list reduces nothing and omitted axes reduce everything", async () => {
    const x = randomHost([3, 4], 5);
    await checkAgainstReference(reduceOps.sum, [x], { axes: [], keepDim: false }, toleranceFor("f32"));
    const gpu = fromHost(x);
    const all = sum(gpu);
    assert.deepEqual(all.shape, []);
    assertClose(await all.toArray(), [x.data.reduce((a, b) => a + b, 0)], toleranceFor("f32", 12));
    [gpu, all].forEach((t) => t.dispose());
  });

  test("sum(), max() and min() are exact on i32", async () => {
    await fc.assert(
      fc.asyncProperty(arbReduction({ maxSize: 5000 }), async ({ shape, axes, keepDim, seed }) => {
        const x = randomHost(shape, seed, { dtype: "i32", low: -1000, high: 1000 });
        const axesList = normalizeAxes("sum", shape, axes);
        await checkAgainstReference(reduceOps.sum, [x], { axes: axesList, keepDim }, { atol: 0, rtol: 0 });
        fc.pre(reductionLength(shape, axes) > 0);
        await checkAgainstReference(reduceOps.max, [x], { axes: axesList, keepDim }, { atol: 0, rtol: 0 });
        await checkAgainstReference(reduceOps.min, [x], { axes: axesList, keepDim }, { atol: 0, rtol: 0 });
      }),
      { numRuns: fcRuns(6) },
    );
  });

  test("f16 inputs are summed in f32 and rounded once on store", async () => {
    await fc.assert(
      fc.asyncProperty(arbReduction({ maxSize: 5000 }), async ({ shape, axes, keepDim, seed }) => {
        const x = randomHost(shape, seed, { dtype: "f16" });
        const axesList = normalizeAxes("sum", shape, axes);
        const count = reductionLength(shape, axes);
        // f32 accumulation: the error is one f16 rounding of the result plus f32 sum error
        const tolerance = { atol: toleranceFor("f16").atol + toleranceFor("f32", count).atol, rtol: toleranceFor("f16").rtol };
        await checkAgainstReference(reduceOps.sum, [x], { axes: axesList, keepDim }, tolerance);
        await checkAgainstReference(reduceOps.mean, [x], { axes: axesList, keepDim }, tolerance);
      }),
      { numRuns: fcRuns(6) },
    );
  });

  test("long sums stay within a √K tolerance of the f64 reference", async () => {
    // one long row (split into chunks on CPU adapters), long columns, and a middle axis
    const cases: [number[], number[]][] = [
      [[100003], [0]],
      [[2, 50021], [1]],
      [[50021, 3], [0]],
      [
        [7, 30011, 2],
        [0, 1],
      ],
    ];
    for (const [shape, axes] of cases) {
      const x = randomHost(shape, shape[0]);
      const count = reductionLength(shape, axes);
      await checkAgainstReference(reduceOps.sum, [x], { axes, keepDim: false }, toleranceFor("f32", count));
      await checkAgainstReference(reduceOps.variance, [x], { axes, keepDim: false, correction: 1 }, toleranceFor("f32", count, 2));
    }
  });

  test("summing one million elements matches the f64 reference", async () => {
    // positive values: a naive serial f32 sum drifts by ~K·ε relative, far outside √K·ε
    const x = randomHost([1000, 1000], 11, { low: 0, high: 1 });
    await checkAgainstReference(reduceOps.sum, [x], { axes: [0, 1], keepDim: false }, toleranceFor("f32", 1e6));
    await checkAgainstReference(reduceOps.argmax, [x], { axes: [0, 1], keepDim: false }, { atol: 0, rtol: 0 });
  });

  test("variance of values with a large mean stays accurate where E[x²] − E[x]² fails", async () => {
    const x = randomHost([4, 4096], 3, { low: 999.5, high: 1000.5 });
    const expected = reduceOps.variance.reference([x], { axes: [1], keepDim: false, correction: 0 });
    const tolerance = toleranceFor("f32", 4096, 2);
    // the naive formula in f32 is far off: proof that this input tells the two apart
    assert.throws(() => assertClose(naiveVarianceF32(x, 4096), expected.data, tolerance));
    const gpu = fromHost(x);
    const result = variance(gpu, 1, { correction: 0 });
    assertClose((await toHost(result)).data, expected.data, tolerance);
    [gpu, result].forEach((t) => t.dispose());
  });

  test("bad axes and dtypes are rejected before any GPU work", () => {
    const x = fromHost(randomHost([2, 3], 1));
    const ints = fromHost(randomHost([2, 3], 1, { dtype: "u32", low: 0, high: 9 }));
    const empty = fromHost(randomHost([2, 0], 1));
    assert.throws(
      () => sum(x, 2),
      (e: Error) =>
        e instanceof ShapeError && /Cannot run sum over axis 2 of a tensor of shape \[2, 3\]: axes must lie in \[-2, 1\]/.test(e.message),
    );
    assert.throws(
      () => sum(x, [1, -1]),
      (e: Error) => e instanceof ShapeError && /axis -1 is repeated/.test(e.message),
    );
    assert.throws(() => argmax(x, 1.5), ShapeError);
    assert.throws(() => sum(ints), DTypeError);
    assert.throws(
      () => variance(fromHost(randomHost([3], 1, { dtype: "i32" }))),
      (e: Error) => e instanceof DTypeError && /needs a float tensor/.test(e.message),
    );
    assert.throws(
      () => max(empty, 1),
      (e: Error) => e instanceof ShapeError && /the reduction is empty/.test(e.message),
    );
    [x, ints, empty].forEach((t) => t.dispose());
  });
});

/** E[x²] − E[x]² per row with every operation rounded to f32, as a naive kernel would do. */
function naiveVarianceF32(x: HostTensor, rowLength: number): number[] {
  const out: number[] = [];
  for (let row = 0; row < x.data.length / rowLength; row++) {
    let sum = 0;
    let sumSquares = 0;
    for (let i = 0; i < rowLength; i++) {
      const v = x.data[row * rowLength + i];
      sum = Math.fround(sum + v);
      sumSquares = Math.fround(sumSquares + Math.fround(v * v));
    }
    const meanValue = Math.fround(sum / rowLength);
    out.push(Math.fround(Math.fround(sumSquares / rowLength) - Math.fround(meanValue * meanValue)));
  }
  return out;
}
