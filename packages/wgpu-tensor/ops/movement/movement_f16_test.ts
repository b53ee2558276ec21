/**
 * Copy ops on f16 tensors (concat, narrow, pad) are exact: each is checked against the same op on
 * the same values in f32 (itself checked against the JS reference in its own test) with tolerance 0.
 * Values come from randomHost's f16 grid (multiples of 1/1024 in [−1, 1]), exact in both dtypes.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import type { Device } from "../../device/device.ts";
import { cast } from "../cast/cast.ts";
import { arbShape, assertClose, fcRuns, fromHost, randomHost, testDevice } from "../../testing/mod.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { concat } from "./concat.ts";
import { pad } from "./pad.ts";
import { narrow } from "./slice.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

/** Runs `op` on f16 inputs and on the same values in f32; the results must be equal bit for bit. */
async function assertSameAsF32(inputs: Tensor[], op: (xs: Tensor[]) => Tensor): Promise<void> {
  const wide = inputs.map((x) => cast(x, "f32"));
  const half = op(inputs);
  const full = op(wide);
  assert.equal(half.dtype, "f16");
  assert.deepEqual(half.shape, full.shape);
  assertClose(await half.toArray(), await full.toArray(), { atol: 0, rtol: 0 });
  [...inputs, ...wide, half, full].forEach((t) => t.dispose());
}

const arbCase = arbShape({ minRank: 1, maxRank: 4, maxDim: 9, maxSize: 4000 }).chain((shape) =>
  fc.record({
    shape: fc.constant(shape),
    axis: fc.integer({ min: 0, max: shape.length - 1 }),
    seed: fc.integer(),
    extra: fc.integer({ min: 1, max: 5 }),
  }),
);

describe("f16 copies", () => {
  test("concat, narrow and pad of f16 tensors equal their f32 results exactly", async (t) => {
    if (!device.hasF16) return t.diagnostic("no shader-f16 on this adapter");
    await fc.assert(
      fc.asyncProperty(arbCase, async ({ shape, axis, seed, extra }) => {
        const other = shape.map((d, i) => (i === axis ? extra : d));
        const half = (s: number[], k: number) => fromHost(randomHost(s, seed + k, { dtype: "f16" }));
        await assertSameAsF32([half(shape, 0), half(other, 1)], ([a, b]) => concat([a!, b!], axis));
        const length = Math.max(1, Math.floor(shape[axis]! / 2));
        await assertSameAsF32([half(shape, 2)], ([x]) => narrow(x!, axis, shape[axis]! - length, length));
        const pads = [extra % 3, (extra + 1) % 2, ...(shape.length > 1 ? [1, 0] : [])];
        await assertSameAsF32([half(shape, 3)], ([x]) => pad(x!, pads, 0.5));
      }),
      { numRuns: fcRuns(10) },
    );
  });
});
