import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { checkGradients } from "../../autograd/grad_check.ts";
import type { Device } from "../../device/device.ts";
import type { HostTensor } from "../../tensor/host_tensor.ts";
import { arbShape, fcRuns, randomHost, testDevice, toleranceFor } from "../../testing/mod.ts";
import { castOp } from "../cast/cast.ts";
import { concatOp } from "./concat.ts";
import { embeddingOp } from "./embedding.ts";
import { padIntoOp } from "./pad_into.ts";
import { permuteOp } from "./permute.ts";
import { reshapeOp } from "./reshape.ts";
import { resolveSlices, sliceOp } from "./slice.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

// These ops only move values (embedding's gradient sums a few): the GPU gradient is exact up to
// f32 rounding of short sums, and finite differences of a linear f64 function are exact to ~1e-10.
const tolerance = toleranceFor("f32", 16, 4);
const small = arbShape({ minRank: 1, maxRank: 4, maxDim: 6 });

describe("movement gradients match finite differences of the f64 reference", () => {
  test("permute() gradient", async () => {
    const arb = small.chain((shape) =>
      fc
        .shuffledSubarray(
          shape.map((_, i) => i),
          { minLength: shape.length, maxLength: shape.length },
        )
        .map((dims) => ({ shape, dims })),
    );
    await fc.assert(
      fc.asyncProperty(arb, fc.integer(), async ({ shape, dims }, seed) => {
        await checkGradients(permuteOp, [randomHost(shape, seed)], { dims }, { tolerance });
      }),
      { numRuns: fcRuns(4) },
    );
  });

  test("slice() and padInto() gradients", async () => {
    await fc.assert(
      fc.asyncProperty(small, fc.integer(), fc.integer({ min: 1, max: 3 }), async (shape, seed, step) => {
        const specs = [{ axis: 0, start: Math.min(1, shape[0] - 1), step }];
        const attrs = resolveSlices("slice", shape, specs);
        await checkGradients(sliceOp, [randomHost(shape, seed)], attrs, { tolerance });
        const placed = { shape, starts: attrs.starts, steps: attrs.steps, value: 0.5 };
        await checkGradients(padIntoOp, [randomHost(attrs.shape, seed + 1)], placed, { tolerance });
      }),
      { numRuns: fcRuns(4) },
    );
  });

  test("concat() gradient reaches every input", async () => {
    await fc.assert(
      fc.asyncProperty(small, fc.integer(), async (shape, seed) => {
        const axis = shape.length - 1;
        const inputs: HostTensor[] = [1, 3, 2].map((size, i) =>
          randomHost(
            shape.map((d, a) => (a === axis ? size : d)),
            seed + i,
          ),
        );
        await checkGradients(concatOp, inputs, { axis }, { tolerance });
      }),
      { numRuns: fcRuns(4) },
    );
  });

  test("reshape and f32 cast gradients", async () => {
    const x = randomHost([2, 3, 4], 1);
    await checkGradients(reshapeOp, [x], { shape: [4, -1] }, { tolerance });
    // the cast's reference rounds to f32, a staircase of ~6e-8 steps: a 1e-2 step keeps the
    // central difference of the (identity) map within 6e-8 / 2e-2 = 3e-6 of its slope 1
    await checkGradients(castOp, [x], { dtype: "f32" }, { tolerance, step: 1e-2 });
  });

  test("embedding() gradient w.r.t. the table, with repeated ids", async () => {
    const weight = randomHost([6, 5], 1);
    const ids: HostTensor = { shape: [2, 4], dtype: "i32", data: Float64Array.from([1, 4, 1, 0, 5, 5, 1, 2]) };
    await checkGradients(embeddingOp, [weight, ids], {}, { wrt: [0], tolerance });
  });
});
