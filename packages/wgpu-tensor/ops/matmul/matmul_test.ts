import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { checkGradients } from "../../autograd/grad_check.ts";
import type { Device } from "../../device/device.ts";
import { ShapeError } from "../../tensor/errors.ts";
import type { HostTensor } from "../../tensor/host_tensor.ts";
import { checkAgainstReference, fcRuns, fromHost, randomHost, testDevice, toHost, toleranceFor } from "../../testing/mod.ts";
import { assertClose } from "../../testing/assert_close.ts";
import { checkVariantAgainstReference } from "../../testing/check_reference.ts";
import { linear, matmul, matmulFused, matmulOp } from "./matmul.ts";
import { ACTIVATIONS, type Activation } from "./matmul_epilogue.ts";
import { referenceMatmul } from "./matmul_reference.ts";
import { type MatmulAttrs, matmulGeometry } from "./matmul_shape.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

const plain: MatmulAttrs = { transposeA: false, transposeB: false, alpha: 1, activation: "none", hasBias: false, hasResidual: false };

/** Sizes around the CPU kernel's blocks (16 rows, 32 columns, k shared in steps of 8) and small primes. */
const arbSize = fc.oneof(fc.constantFrom(1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 41), fc.integer({ min: 1, max: 40 }));

interface Case {
  a: number[];
  b: number[];
  attrs: MatmulAttrs;
  k: number;
}

/** Operand shapes for m×k by k×n with the given transposes and broadcasting batch dimensions. */
function shapes(m: number, n: number, k: number, batchA: number[], batchB: number[], transposeA: boolean, transposeB: boolean) {
  return {
    a: [...batchA, ...(transposeA ? [k, m] : [m, k])],
    b: [...batchB, ...(transposeB ? [n, k] : [k, n])],
  };
}

/** Batch dimensions that broadcast: one side may drop leading dims or have 1s. */
const arbBatches = fc.constantFrom<[number[], number[]]>(
  [[], []],
  [[2], []],
  [[], [3]],
  [[2], [2]],
  [[2, 1], [3]],
  [
    [1, 3],
    [2, 1],
  ],
  [[3], [1]],
);

const arbCase: fc.Arbitrary<Case> = fc
  .record({ m: arbSize, n: arbSize, k: arbSize, batches: arbBatches, transposeA: fc.boolean(), transposeB: fc.boolean() })
  .filter(({ m, n, k }) => m * n * k <= 40000)
  .map(({ m, n, k, batches, transposeA, transposeB }) => ({
    ...shapes(m, n, k, batches[0], batches[1], transposeA, transposeB),
    attrs: { ...plain, transposeA, transposeB },
    k,
  }));

/** Output shape of a case, to size bias and residual. */
function outShape(c: Case): number[] {
  return referenceMatmul([randomHost(c.a, 0), randomHost(c.b, 0)], c.attrs).shape as number[];
}

/** gelu and silu go through erf/exp approximations good to a few f32 ulps (as in the elementwise tests). */
function tolerance(k: number, activation: Activation = "none") {
  return toleranceFor("f32", k, activation === "gelu" || activation === "silu" ? 4 : 1);
}

describe("matmul", () => {
  test("matmul() matches the reference for every combination of transposes and broadcast batch dimensions", async () => {
    await fc.assert(
      fc.asyncProperty(arbCase, fc.integer(), async (c, seed) => {
        await checkAgainstReference(matmulOp, [randomHost(c.a, seed), randomHost(c.b, seed + 1)], c.attrs, tolerance(c.k));
      }),
      { numRuns: fcRuns(16) },
    );
  });

  test("the portable kernel that GPUs get matches the reference too", async () => {
    await fc.assert(
      fc.asyncProperty(arbCase, fc.integer(), async (c, seed) => {
        const inputs = [randomHost(c.a, seed), randomHost(c.b, seed + 1)];
        await checkVariantAgainstReference(matmulOp, inputs, c.attrs, tolerance(c.k), { isCpuAdapter: false });
        await checkVariantAgainstReference(matmulOp, inputs, c.attrs, tolerance(c.k), { hasSubgroups: false });
      }),
      { numRuns: fcRuns(8) },
    );
  });

  test("the fused epilogue (alpha, bias, activation, residual) matches the reference in every combination", async () => {
    // every epilogue is its own kernel and lavapipe compiles each for seconds: a few random
    // combinations per run, and one fixed case with all four parts
    const arbEpilogue = fc.record({
      alpha: fc.constantFrom(1, 0.5, -2),
      activation: fc.constantFrom(...ACTIVATIONS),
      hasBias: fc.boolean(),
      hasResidual: fc.boolean(),
    });
    const arbUnbatched = arbCase.filter((c) => c.a.length === 2 && c.b.length === 2);
    const check = async (c: Case, epilogue: Partial<MatmulAttrs>, seed: number) => {
      const attrs = { ...c.attrs, ...epilogue };
      const out = outShape(c);
      const inputs = [randomHost(c.a, seed), randomHost(c.b, seed + 1)];
      if (attrs.hasBias) inputs.push(randomHost([out[out.length - 1]], seed + 2));
      if (attrs.hasResidual) inputs.push(randomHost(out, seed + 3));
      await checkAgainstReference(matmulOp, inputs, attrs, tolerance(c.k, attrs.activation));
      await checkVariantAgainstReference(matmulOp, inputs, attrs, tolerance(c.k, attrs.activation), { isCpuAdapter: false });
    };
    await fc.assert(fc.asyncProperty(arbUnbatched, arbEpilogue, fc.integer(), check), { numRuns: fcRuns(3) });
    const large = { ...shapes(37, 45, 29, [], [], false, true), attrs: { ...plain, transposeB: true }, k: 29 };
    await check(large, { alpha: 0.5, activation: "gelu", hasBias: true, hasResidual: true }, 11);
  });

  test("block edges: m, n and k one below, at and one above the kernel's blocks (16 rows, 32 columns, k in steps of 8), and k = 1", async () => {
    for (const [m, n, k] of [
      [15, 31, 1],
      [16, 32, 8],
      [17, 33, 9],
      [33, 1, 7],
      [1, 65, 17],
      [48, 5, 63],
    ]) {
      for (const [transposeA, transposeB] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ]) {
        const s = shapes(m, n, k, [], [], transposeA, transposeB);
        const attrs = { ...plain, transposeA, transposeB };
        await checkAgainstReference(matmulOp, [randomHost(s.a, m), randomHost(s.b, n)], attrs, tolerance(k));
      }
    }
  });

  test("f16 operands are multiplied in f32 and rounded once on store", async () => {
    const arbUnbatched = arbCase.filter((c) => c.a.length === 2 && c.b.length === 2);
    await fc.assert(
      fc.asyncProperty(arbUnbatched, fc.integer(), async (c, seed) => {
        const inputs = [randomHost(c.a, seed, { dtype: "f16" }), randomHost(c.b, seed + 1, { dtype: "f16" })];
        // one f16 rounding of the result (relative 2⁻¹¹) on top of the f32 sum's error
        const tol = { atol: toleranceFor("f16").atol + tolerance(c.k).atol, rtol: toleranceFor("f16").rtol };
        await checkAgainstReference(matmulOp, inputs, c.attrs, tol);
        await checkVariantAgainstReference(matmulOp, inputs, c.attrs, tol, { isCpuAdapter: false });
      }),
      { numRuns: fcRuns(3) },
    );
  });

  test("matmul() rejects mismatched shapes with ShapeError before any GPU work", () => {
    const before = device.queue.counters.dispatches;
    const a = fromHost(randomHost([2, 3], 1));
    const b = fromHost(randomHost([4, 5], 2));
    const batched = fromHost(randomHost([5, 3, 4], 3));
    try {
      assert.throws(
        () => matmul(a, b),
        (error: Error) => {
          assert.ok(error instanceof ShapeError);
          assert.equal(error.message, "Cannot matmul [2, 3] by [4, 5]: inner dimensions are 3 and 4, they must match");
          return true;
        },
      );
      assert.throws(
        () => matmul(a, b, { transposeB: true }),
        /Cannot matmul \[2, 3\] by \[4, 5\] \(transposeB\): inner dimensions are 3 and 5, they must match/,
      );
      assert.throws(() => matmul(fromHost(randomHost([2, 2, 3], 4)), batched), /batch dimensions \[2\] and \[5\] do not broadcast/);
      assert.throws(() => matmul(fromHost(randomHost([3], 5)), a), /both operands need at least 2 dimensions/);
      assert.throws(
        () => matmulFused(a, fromHost(randomHost([3, 4], 6)), { bias: fromHost(randomHost([3], 7)) }),
        /expected bias shape \[4\]/,
      );
      assert.throws(
        () => matmulFused(a, fromHost(randomHost([3, 4], 6)), { residual: fromHost(randomHost([4, 2], 7)) }),
        /expected the output shape \[2, 4\]/,
      );
      assert.equal(device.queue.counters.dispatches, before, "no kernel was dispatched");
    } finally {
      a.dispose();
      b.dispose();
      batched.dispose();
    }
  });

  test("a batched a times an unbatched b folds into one product of [batch·m, k] by [k, n]", () => {
    const geometry = matmulGeometry([2, 3, 5, 7], [7, 4], plain);
    assert.deepEqual([geometry.m, geometry.batch, geometry.batchDims], [30, 1, []]);
    const broadcastA = matmulGeometry([5, 7], [3, 7, 4], plain);
    assert.deepEqual([broadcastA.m, broadcastA.batch, broadcastA.aBatchStrides, broadcastA.bBatchStrides], [5, 3, [0], [28]]);
  });

  test("linear() is x·weightᵀ + bias for inputs of rank 1, 2 and 3", async () => {
    for (const xShape of [[6], [3, 6], [2, 3, 6]]) {
      const hosts = [randomHost(xShape, 1), randomHost([5, 6], 2), randomHost([5], 3)];
      const x2 = { ...hosts[0], shape: xShape.length === 1 ? [1, 6] : xShape };
      const expected = referenceMatmul([x2, hosts[1], hosts[2]], { ...plain, transposeB: true, hasBias: true });
      const [x, weight, bias] = hosts.map((h) => fromHost(h));
      const y = linear(x, weight, bias);
      assert.deepEqual(y.shape, [...xShape.slice(0, -1), 5]);
      assertClose((await toHost(y)).data, expected.data, tolerance(6), `linear ${JSON.stringify(xShape)}`);
      [x, weight, bias, y].forEach((t) => t.dispose());
    }
  });

  test("matmulFused() with gradients on gives the same values as the single fused kernel", async () => {
    for (const activation of ["relu", "silu", "gelu"] as const) {
      const hosts: HostTensor[] = [randomHost([9, 7], 1), randomHost([7, 5], 2), randomHost([5], 3), randomHost([9, 5], 4)];
      const attrs = { ...plain, alpha: 0.5, activation, hasBias: true, hasResidual: true };
      const expected = referenceMatmul(hosts, attrs);
      const [a, b, bias, residual] = hosts.map((h) => fromHost(h));
      a.requiresGrad = true;
      const y = matmulFused(a, b, { alpha: 0.5, bias, activation, residual });
      assert.ok(y.requiresGrad);
      assertClose((await toHost(y)).data, expected.data, tolerance(7, activation), `composed ${activation}`);
      [a, b, bias, residual, y].forEach((t) => t.dispose());
    }
  });
});

describe("matmul gradients match finite differences of the f64 reference", () => {
  // small K sums: the GPU gradient's f32 error is a few ulps of values of order 1
  const gradTolerance = toleranceFor("f32", 64, 4);

  test("transposed and broadcast operands", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 5 }),
        arbBatches,
        fc.boolean(),
        fc.boolean(),
        fc.integer(),
        async (m, n, k, batches, transposeA, transposeB, seed) => {
          const s = shapes(m, n, k, batches[0], batches[1], transposeA, transposeB);
          const attrs = { ...plain, transposeA, transposeB };
          await checkGradients(matmulOp, [randomHost(s.a, seed), randomHost(s.b, seed + 1)], attrs, { tolerance: gradTolerance });
        },
      ),
      { numRuns: fcRuns(6) },
    );
  });

  test("every epilogue: alpha, bias, activation and residual", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ACTIVATIONS),
        fc.boolean(),
        fc.boolean(),
        fc.integer(),
        async (activation, hasBias, hasResidual, seed) => {
          const attrs = { ...plain, transposeB: true, alpha: 1.5, activation, hasBias, hasResidual };
          const inputs = [randomHost([3, 4], seed), randomHost([5, 4], seed + 1)];
          if (hasBias) inputs.push(randomHost([5], seed + 2));
          if (hasResidual) inputs.push(randomHost([3, 5], seed + 3));
          await checkGradients(matmulOp, inputs, attrs, { tolerance: toleranceFor("f32", 64, 8) });
        },
      ),
      { numRuns: fcRuns(3) },
    );
  });
});
