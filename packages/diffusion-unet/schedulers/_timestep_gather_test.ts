import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { type Device, ShapeError, tensor } from "@spo/wgpu-tensor";
import { checkAgainstReference, fcRuns, testDevice } from "@spo/wgpu-tensor/testing";
import { gatherTimesteps, timestepGather } from "./_timestep_gather.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

describe("timestepGather", () => {
  test("matches the reference for i32, u32 and f32 timesteps over table and batch sizes", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1200 }),
        fc.integer({ min: 1, max: 130 }),
        fc.constantFrom("i32", "u32", "f32"),
        fc.integer(),
        async (tableSize, batch, dtype, seed) => {
          const table = {
            shape: [tableSize],
            dtype: "f32" as const,
            data: Float64Array.from({ length: tableSize }, (_, i) => Math.fround(Math.sin(i + seed))),
          };
          const indices = Float64Array.from({ length: batch }, (_, i) => Math.abs(seed * 31 + i * 7919) % tableSize);
          await checkAgainstReference(timestepGather, [table, { shape: [batch], dtype, data: indices }], {}, { atol: 0, rtol: 0 });
        },
      ),
      { numRuns: fcRuns(10) },
    );
  });

  test("clamps out-of-range timesteps into the table", async () => {
    const out = gatherTimesteps(tensor([10, 20, 30]), tensor(Int32Array.from([-5, 1, 7]), [3], { dtype: "i32" }));
    assert.deepEqual(Array.from(await out.toArray()), [10, 20, 30]);
  });

  test("rejects tables and timesteps that are not 1-D", () => {
    assert.throws(() => gatherTimesteps(tensor([[1, 2]]), tensor([0])), ShapeError);
  });
});
