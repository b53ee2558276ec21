import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Device, tensor } from "@spo/wgpu-tensor";
import { assertClose, testDevice } from "@spo/wgpu-tensor/testing";
import { SpmInputError } from "../errors.ts";
import { StepPreferenceModel } from "../model/step_preference_model.ts";
import { blendingDenoiser, colorPairs, colorTokenizer, TINY_CONFIG } from "../test/_color_world.ts";
import { evaluatePairwiseAccuracy } from "./evaluate.ts";
import { preferenceLoss } from "./preference_loss.ts";
import { trainStepPreferenceModel } from "./train.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

describe("preferenceLoss", () => {
  test("soft-label cross-entropy with the tie offset: −log σ(sA − sB) for a win, 0 for a tie at equal scores", async () => {
    const a = tensor([2, 1, 3, 0.5], [4], { device });
    const b = tensor([1, 1, 3, 2], [4], { device });
    const loss = await preferenceLoss(a, b, [1, 0.5, 0.5, 0]).toArray();
    const logSigmoid = (x: number) => -Math.log(1 + Math.exp(-x));
    const tieAt = (d: number) => -(0.5 * logSigmoid(d) + 0.5 * logSigmoid(-d)) + Math.log(0.5);
    const expected = (-logSigmoid(1) + tieAt(0) + tieAt(0) - logSigmoid(1.5)) / 4;
    assertClose(loss, [expected], { atol: 1e-6, rtol: 1e-5 });
    assertClose(await preferenceLoss(tensor([5], [1], { device }), tensor([5], [1], { device }), [0.5]).toArray(), [0], {
      atol: 1e-7,
      rtol: 0,
    });
  });
});

describe("trainStepPreferenceModel", () => {
  test("learns a synthetic preference (fixed seed): pairwise accuracy at t = 0 reaches ≥ 0.8 and gains ≥ 0.1 over the untrained model", async (t) => {
    const model = StepPreferenceModel.fromConfig(TINY_CONFIG, { device, seed: 1 });
    const validation = [colorPairs(1000, 48, device)];
    const options = { tokenizer: colorTokenizer, denoiser: blendingDenoiser, timesteps: [0, 501, 951], seed: 5 };
    const before = await evaluatePairwiseAccuracy(model, validation, options);
    const { losses } = await trainStepPreferenceModel(model, {
      tokenizer: colorTokenizer,
      denoiser: blendingDenoiser,
      pairs: (step) => colorPairs(step, 16, device),
      steps: 60,
      lr: 3e-3,
      weightDecay: 0,
      warmupSteps: 5,
      seed: 3,
    });
    const afterTraining = await evaluatePairwiseAccuracy(model, validation, options);
    const first = losses.slice(0, 10).reduce((s, v) => s + v, 0) / 10;
    const last = losses.slice(-10).reduce((s, v) => s + v, 0) / 10;
    t.diagnostic(`accuracy before ${before.map((r) => `t=${r.timestep}: ${r.accuracy.toFixed(3)}`).join(", ")}`);
    t.diagnostic(
      `accuracy after  ${afterTraining.map((r) => `t=${r.timestep}: ${r.accuracy.toFixed(3)}`).join(", ")} (${afterTraining[0].count} decided pairs)`,
    );
    t.diagnostic(`mean loss of the first 10 steps ${first.toFixed(4)}, of the last 10 ${last.toFixed(4)}`);
    assert.ok(last < first, "the loss went down");
    assert.ok(afterTraining[0].accuracy >= 0.8, `accuracy at t = 0 is ${afterTraining[0].accuracy}`);
    assert.ok(
      afterTraining[0].accuracy >= before[0].accuracy + 0.1,
      `accuracy at t = 0 went from ${before[0].accuracy} to ${afterTraining[0].accuracy}`,
    );
    model.dispose();
  });

  test("refuses bad pairs with a typed error before any GPU work, and a step-aware model without a denoiser", async () => {
    const model = StepPreferenceModel.fromConfig(TINY_CONFIG, { device, seed: 2 });
    const good = colorPairs(1, 2, device);
    await assert.rejects(
      trainStepPreferenceModel(model, { tokenizer: colorTokenizer, pairs: () => good, steps: 1 }),
      (e: unknown) => e instanceof SpmInputError && e.argument === "denoiser",
    );
    const mismatched = { ...good, imagesB: tensor(new Float32Array(3 * 3 * 8 * 8), [3, 3, 8, 8], { device }) };
    await assert.rejects(
      trainStepPreferenceModel(model, { tokenizer: colorTokenizer, denoiser: blendingDenoiser, pairs: () => mismatched, steps: 1 }),
      (e: unknown) => e instanceof SpmInputError && e.argument === "imagesB" && /both sides need one shape/.test(e.message),
    );
    const badLabel = { ...colorPairs(1, 2, device), labels: [1, 2] };
    await assert.rejects(
      trainStepPreferenceModel(model, { tokenizer: colorTokenizer, denoiser: blendingDenoiser, pairs: () => badLabel, steps: 1 }),
      /labels\[1\] = 2/,
    );
    model.dispose();
  });
});
