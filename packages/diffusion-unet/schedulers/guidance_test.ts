import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import type { Device } from "@spo/wgpu-tensor";
import { fcRuns, testDevice } from "@spo/wgpu-tensor/testing";
import { arbLatentShape, assertNear, randomTensor, read } from "./_testing.ts";
import { classifierFreeGuidance } from "./guidance.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

describe("classifierFreeGuidance", () => {
  test("is uncond + s·(cond − uncond), uncond at s = 0 and cond at s = 1", async () => {
    await fc.assert(
      fc.asyncProperty(arbLatentShape, fc.double({ min: -2, max: 12, noNaN: true }), fc.integer(), async (shape, scale, seed) => {
        const uncond = randomTensor(shape, seed);
        const cond = randomTensor(shape, seed + 1);
        const want = uncond.data.map((u, i) => u + scale * (cond.data[i] - u));
        assertNear(await read(classifierFreeGuidance(uncond.tensor, cond.tensor, scale)), want, 1e-5, 1e-6, `scale ${scale}`);
        assert.deepEqual(await read(classifierFreeGuidance(uncond.tensor, cond.tensor, 0)), uncond.data);
        assertNear(await read(classifierFreeGuidance(uncond.tensor, cond.tensor, 1)), cond.data, 1e-7, 0, "scale 1");
      }),
      { numRuns: fcRuns(8) },
    );
  });

  test("rejects outputs of different shapes", () => {
    assert.throws(
      () => classifierFreeGuidance(randomTensor([2, 4], 1).tensor, randomTensor([2, 5], 1).tensor, 7.5),
      /must have the same shape/,
    );
  });
});
