import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { Device } from "../../device/device.ts";
import { runOp } from "../run_op.ts";
import { DTypeError, ShapeError } from "../../tensor/errors.ts";
import { fcRuns, fromHost, randomHost, testDevice } from "../../testing/mod.ts";
import { attentionBackwardStatsOp, attentionGradMaskOp, attentionGradQueryOp } from "./attention_backward.ts";
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
      fc.asyncProperty(arbAttentionCase({ withMask: true, headSizes: [8, 17], maxWork: 1e6 }), fc.integer(), async (c, seed) =>
        checkGradKernels(c, seed),
      ),
      { numRuns: fcRuns(4) },
    );
  });

  test("larger head sizes (SD's 80, odd 77) match their references, with cross attention over 77 keys", async () => {
    const base = { batch: 1, heads: 2, isCausal: false, maskShape: null };
    await checkGradKernels({ ...base, queries: 9, keys: 77, headSize: 80, valueSize: 80 }, 1);
    await checkGradKernels({ ...base, queries: 66, keys: 5, headSize: 77, valueSize: 65, isCausal: true }, 2);
  });

  test("the gradient ops reject inputs that do not fit before any GPU work", () => {
    const t = (shape: number[], dtype: "f32" | "f16" = "f32") => fromHost(randomHost(shape, 1, { dtype }));
    const [q, k, v, dO] = [t([1, 2, 3, 8]), t([1, 2, 5, 8]), t([1, 2, 5, 4]), t([1, 2, 3, 4])];
    const attrs = { scale: 0.5, isCausal: false };
    const dispatchesBefore = device.queue.counters.dispatches;
    assert.throws(
      () => runOp(attentionGradQueryOp, [q, k, v, dO, t([1, 2, 3, 2], "f16")], attrs),
      (e: Error) => e instanceof DTypeError && /stats is f16, expected f32/.test(e.message),
    );
    assert.throws(
      () => runOp(attentionGradQueryOp, [q, k, v, dO, t([1, 2, 3, 1])], attrs),
      (e: Error) => e instanceof ShapeError && /statistics has shape \[1, 2, 3, 1\], expected \[1, 2, 3, 2\]/.test(e.message),
    );
    assert.throws(
      () => runOp(attentionBackwardStatsOp, [q, k, t([1, 2, 3, 5]), dO], attrs),
      (e: Error) => e instanceof ShapeError && /the output has shape/.test(e.message),
    );
    assert.throws(() => runOp(attentionGradMaskOp, [q, k, v, dO, t([1, 2, 3, 2])], attrs), /it needs the mask/);
    assert.equal(device.queue.counters.dispatches, dispatchesBefore);
  });
});
