import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Device } from "@spo/wgpu-tensor";
import { assertClose, testDevice } from "@spo/wgpu-tensor/testing";
import { StepPreferenceModel } from "../model/step_preference_model.ts";
import { blendingDenoiser, colorPairs, colorTokenizer, TINY_CONFIG } from "../test/_color_world.ts";
import { type SpmCheckpoint, trainStepPreferenceModel } from "./train.ts";
import { loadSpmCheckpoint, saveSpmCheckpoint } from "./checkpoint_node.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

const RUN = { tokenizer: colorTokenizer, denoiser: blendingDenoiser, steps: 4, lr: 1e-3, warmupSteps: 2, seed: 9, checkpointEvery: 2 };

test("a run resumed from its step-2 checkpoint (saved to a folder and read back) ends with the weights of the uninterrupted run", async () => {
  const checkpoints: SpmCheckpoint[] = [];
  const whole = StepPreferenceModel.fromConfig(TINY_CONFIG, { device, seed: 1 });
  const initial = new Map([...whole.namedParameters()].map(([name, p]) => [name, p]));
  const start = await Promise.all(
    [...initial].map(async ([name, p]) => [name, { shape: [...p.shape], data: Float32Array.from(await p.toArray()) }] as const),
  );
  const result = await trainStepPreferenceModel(whole, {
    ...RUN,
    pairs: (step) => colorPairs(step, 4, device),
    onCheckpoint: (c) => void checkpoints.push(c),
  });
  assert.deepEqual(
    checkpoints.map((c) => c.step),
    [2, 4],
  );
  assert.equal(result.step, 4);

  const resumed = StepPreferenceModel.fromConfig(TINY_CONFIG, { device, seed: 1 });
  resumed.loadStateDict(new Map(start)); // whatever its init, the checkpoint overwrites it
  const folder = mkdtempSync(join(tmpdir(), "spm-checkpoint-"));
  await saveSpmCheckpoint(folder, checkpoints[0]);
  const reloaded = await loadSpmCheckpoint(folder);
  rmSync(folder, { recursive: true, force: true });
  assert.equal(reloaded.step, 2);
  const rest = await trainStepPreferenceModel(resumed, { ...RUN, pairs: (step) => colorPairs(step, 4, device), resumeFrom: reloaded });
  assert.equal(rest.losses.length, 2);
  assertClose(rest.losses, result.losses.slice(2), { atol: 1e-6, rtol: 1e-5 });
  for (const [name, p] of resumed.namedParameters()) {
    assertClose(await p.toArray(), checkpoints[1].weights.get(name)!.data, { atol: 1e-6, rtol: 1e-5 }, name);
  }
  assert.equal(checkpoints[1].optimizer.step, 4);
  whole.dispose();
  resumed.dispose();
});

test("the step-agnostic variant trains on the clean images only (the denoiser is never called)", async () => {
  const model = StepPreferenceModel.fromConfig(TINY_CONFIG, { device, seed: 2, isTimeConditioned: false });
  const before = Float32Array.from(await model.visual_projection.weight.toArray());
  const { losses } = await trainStepPreferenceModel(model, {
    tokenizer: colorTokenizer,
    denoiser: () => {
      throw new Error("the step-agnostic model must not ask for x̂0");
    },
    pairs: (step) => colorPairs(100 + step, 4, device),
    steps: 3,
    lr: 1e-3,
    warmupSteps: 1,
  });
  assert.equal(losses.length, 3);
  assert.ok(losses.every(Number.isFinite));
  const afterTraining = await model.visual_projection.weight.toArray();
  assert.ok(
    afterTraining.some((v, i) => v !== before[i]),
    "the weights moved",
  );
  model.dispose();
});
