import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import type { Device } from "../../device/device.ts";
import type { OpDef } from "../op_def.ts";
import { arbShape, checkAgainstReference, fcRuns, fromHost, randomHost, testDevice, toHost } from "../../testing/mod.ts";
import { inversePermutation, permute, permuteOp, transpose } from "./permute.ts";
import { ShapeError } from "../../tensor/errors.ts";

/** The op as a GPU adapter would plan it (one element per invocation), run here on lavapipe. */
function asOnGpu<A>(def: OpDef<A>): OpDef<A> {
  return { ...def, kernel: (inputs, attrs, output, context) => def.kernel(inputs, attrs, output, { ...context, isCpuAdapter: false }) };
}

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

/** A shape and a random permutation of its axes. */
const arbPermutation = arbShape({ minRank: 0, maxRank: 5, maxDim: 17, maxSize: 30000 }).chain((shape) =>
  fc
    .shuffledSubarray(
      shape.map((_, i) => i),
      { minLength: shape.length, maxLength: shape.length },
    )
    .map((dims) => ({ shape, dims })),
);

describe("permute", () => {
  test("permute() matches the reference for random shapes and permutations", async () => {
    await fc.assert(
      fc.asyncProperty(arbPermutation, fc.integer(), async ({ shape, dims }, seed) => {
        // a copy is exact: tolerance 0
        await checkAgainstReference(permuteOp, [randomHost(shape, seed)], { dims }, { atol: 0, rtol: 0 });
      }),
      { numRuns: fcRuns(16) },
    );
  });

  test("permute() copies i32 and f16 tensors bit-exactly", async () => {
    await fc.assert(
      fc.asyncProperty(
        arbPermutation,
        fc.integer(),
        fc.constantFrom("i32" as const, "f16" as const),
        async ({ shape, dims }, seed, dtype) => {
          // randomHost rounds f16 values to a 1/1024 grid, exact in f16 only within ±1
          const range = dtype === "i32" ? 1000 : 1;
          const x = randomHost(shape, seed, { dtype, low: -range, high: range });
          await checkAgainstReference(permuteOp, [x], { dims }, { atol: 0, rtol: 0 });
        },
      ),
      { numRuns: fcRuns(8) },
    );
  });

  test("the GPU-adapter variant (one element per invocation) matches the reference too", async () => {
    await fc.assert(
      fc.asyncProperty(arbPermutation, fc.integer(), async ({ shape, dims }, seed) => {
        await checkAgainstReference(asOnGpu(permuteOp), [randomHost(shape, seed)], { dims }, { atol: 0, rtol: 0 });
      }),
      { numRuns: fcRuns(6) },
    );
  });

  test("transpose() swaps two axes and negative axes count from the end", async () => {
    const host = randomHost([3, 4, 5], 3);
    const x = fromHost(host);
    const y = transpose(x, 0, -1);
    const expected = permuteOp.reference([host], { dims: [2, 1, 0] });
    assert.deepEqual(y.shape, [5, 4, 3]);
    assert.deepEqual((await toHost(y)).data, expected.data);
    x.dispose();
    y.dispose();
  });

  test("the backward rule permutes dy by the inverse permutation", async () => {
    const dims = [2, 0, 3, 1];
    assert.deepEqual(inversePermutation(dims), [1, 3, 0, 2]);
    const x = fromHost(randomHost([2, 3, 4, 5], 1));
    x.requiresGrad = true;
    const y = permute(x, dims);
    const dyHost = randomHost(y.shape, 2);
    const dy = fromHost(dyHost);
    const [dx] = y.gradNode!.backward(dy);
    assert.deepEqual(dx!.shape, x.shape);
    const expected = permuteOp.reference([dyHost], { dims: inversePermutation(dims) });
    assert.deepEqual((await toHost(dx!)).data, expected.data);
    for (const t of [x, y, dy, dx!]) t.dispose();
  });

  test("permute() rejects a wrong rank or a repeated axis before any GPU work", () => {
    const x = fromHost(randomHost([2, 3], 1));
    assert.throws(() => permute(x, [0]), ShapeError);
    assert.throws(() => permute(x, [1, 1]), /every dimension must appear exactly once/);
    x.dispose();
  });
});
