import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { backward } from "../../autograd/backward.ts";
import { checkGradients } from "../../autograd/grad_check.ts";
import type { Device } from "../../device/device.ts";
import type { HostTensor } from "../../tensor/host_tensor.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { assertClose, fromHost, testDevice, toleranceFor } from "../../testing/mod.ts";
import { attentionOp, scaledDotProductAttention } from "./attention.ts";
import { attentionBackward } from "./attention_backward.ts";
import { referenceAttentionBackward } from "./attention_reference.ts";
import { type AttentionCase, attentionInputs, checkGradKernels, gradTolerance, sumToShapeHost } from "./_attention_testing.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

/** The forward on the GPU with gradients on for the chosen inputs, then backward(dO). */
async function gpuGradients(c: AttentionCase, seed: number, wrt: readonly boolean[]): Promise<(HostTensor | null)[]> {
  const { query, key, value, outGrad, mask } = attentionInputs(c, seed);
  const inputs = [query, key, value, ...(mask ? [mask] : [])].map((host) => fromHost(host));
  inputs.forEach((t, i) => (t.requiresGrad = wrt[i] ?? false));
  const out = scaledDotProductAttention(inputs[0], inputs[1], inputs[2], { attnMask: inputs[3], isCausal: c.isCausal });
  const seedGrad = fromHost(outGrad);
  try {
    backward(out, seedGrad);
    return await Promise.all(
      inputs.map(async (t) => (t.grad ? { shape: t.shape, dtype: t.dtype, data: Float64Array.from(await t.grad.toArray()) } : null)),
    );
  } finally {
    [out, seedGrad, ...inputs].forEach((t: Tensor) => t.dispose());
  }
}

describe("scaledDotProductAttention gradients", () => {
  test("f16 inputs get f16 gradients computed in f32", async () => {
    const c: AttentionCase = { batch: 1, heads: 2, queries: 9, keys: 33, headSize: 17, valueSize: 8, isCausal: true, maskShape: null };
    await checkGradKernels(c, 4, "f16");
  });

  test("backward() through scaledDotProductAttention gives the analytic gradients of referenceAttentionBackward", async () => {
    const cases: AttentionCase[] = [
      { batch: 2, heads: 2, queries: 9, keys: 77, headSize: 32, valueSize: 32, isCausal: false, maskShape: null },
      { batch: 1, heads: 3, queries: 65, keys: 65, headSize: 17, valueSize: 8, isCausal: true, maskShape: null },
      { batch: 2, heads: 2, queries: 7, keys: 13, headSize: 8, valueSize: 3, isCausal: false, maskShape: [2, 1, 1, 13] },
    ];
    for (const [index, c] of cases.entries()) {
      const { query, key, value, outGrad, mask } = attentionInputs(c, 100 + index);
      const expected = referenceAttentionBackward(query, key, value, outGrad, { isCausal: c.isCausal, mask });
      const actual = await gpuGradients(c, 100 + index, [true, true, true, true]);
      const tolerance = gradTolerance(c);
      assertClose(actual[0]!.data, expected.query.data, tolerance, `dQ of case ${index}`);
      assertClose(actual[1]!.data, expected.key.data, tolerance, `dK of case ${index}`);
      assertClose(actual[2]!.data, expected.value.data, tolerance, `dV of case ${index}`);
      if (mask) {
        // autograd sums the score-shaped mask gradient over the mask's broadcast dimensions
        const maskGrad = sumToShapeHost(expected.mask, mask.shape);
        assert.deepEqual(actual[3]!.shape, mask.shape);
        assertClose(
          actual[3]!.data,
          maskGrad.data,
          toleranceFor("f32", c.batch * c.heads * c.queries * c.keys, 8),
          `dMask of case ${index}`,
        );
      }
    }
  });

  test("gradients agree with finite differences of the f64 reference", async () => {
    const c: AttentionCase = { batch: 1, heads: 2, queries: 3, keys: 5, headSize: 4, valueSize: 3, isCausal: true, maskShape: null };
    const { query, key, value } = attentionInputs(c, 5);
    const attrs = { scale: 0.7, isCausal: true };
    await checkGradients(attentionOp, [query, key, value], attrs, { tolerance: toleranceFor("f32", 16, 8) });
    const masked = { ...c, isCausal: false, maskShape: [3, 5] };
    const inputs = attentionInputs(masked, 6);
    const finiteMask = { ...inputs.mask!, data: inputs.mask!.data.map((m) => (Number.isFinite(m) ? m : -5)) };
    await checkGradients(
      attentionOp,
      [inputs.query, inputs.key, inputs.value, finiteMask],
      { scale: 0.5, isCausal: false },
      { tolerance: toleranceFor("f32", 16, 8) },
    );
  });

  test("inputs that need no gradient get none, and their kernels do not run", async () => {
    const c: AttentionCase = { batch: 1, heads: 2, queries: 6, keys: 7, headSize: 8, valueSize: 8, isCausal: false, maskShape: null };
    const grads = await gpuGradients(c, 9, [false, false, true]);
    assert.equal(grads[0], null);
    assert.equal(grads[1], null);
    const { query, key, value, outGrad } = attentionInputs(c, 9);
    const expected = referenceAttentionBackward(query, key, value, outGrad);
    assertClose(grads[2]!.data, expected.value.data, gradTolerance(c), "dV");
    // the rule itself: statistics and dV only
    const [q, k, v, dy] = [query, key, value, outGrad].map((host) => fromHost(host));
    const output = scaledDotProductAttention(q, k, v);
    const dispatchesBefore = device.queue.counters.dispatches;
    const ruleGrads = attentionBackward({
      inputs: [q, k, v],
      output,
      dy,
      attrs: { scale: 1 / Math.sqrt(8), isCausal: false, needsGrad: [false, false, true] },
    });
    assert.equal(device.queue.counters.dispatches - dispatchesBefore, 2);
    assert.deepEqual(
      ruleGrads.map((g) => g === null),
      [true, true, false],
    );
    [q, k, v, dy, output, ruleGrads[2]!].forEach((t) => t.dispose());
  });
});
