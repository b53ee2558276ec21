import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import type { Device } from "../../device/device.ts";
import { fcRuns, testDevice } from "../../testing/mod.ts";
import { arbAttentionCase, checkGradKernels } from "./_attention_testing.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

describe("scaledDotProductAttention gradient kernels", () => {
  test("the statistics, dQ, dK and dV kernels match their references on random shapes, causal or not", async () => {
    await fc.assert(
      fc.asyncProperty(arbAttentionCase({ maxWork: 1e6 }), fc.integer(), async (c, seed) => checkGradKernels(c, seed)),
      { numRuns: fcRuns(6) },
    );
  });

  test("the gradient kernels and the mask gradient match their references under a broadcast mask", async () => {
    await fc.assert(
      fc.asyncProperty(arbAttentionCase({ withMask: true, headSizes: [8, 17], maxWork: 1e6 }), fc.integer(), async (c, seed) => checkGradKernels(c, seed)),
      { numRuns: fcRuns(4) },
    );
  });
});
