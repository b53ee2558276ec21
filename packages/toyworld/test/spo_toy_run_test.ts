// SPO on the shipped toy base model (a v-predicting pixel-space UNet): a two-update run with the toy
// world's exact reward of each child's x̂₀ as the step scorer changes the LoRA, writes checkpoints to
// a run folder, and a run resumed from the first checkpoint starts from exactly the saved LoRA.
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DDIMScheduler } from "@spo/diffusion-unet";
import { asStepScorer, decodeCheckpoint, folderCheckpointStore, PredictionTypeError, SpoTrainer } from "@spo/trainer/node";
import type { Device, Tensor } from "@spo/wgpu-tensor";
import { testDevice } from "@spo/wgpu-tensor/testing";
import { loadToyModel, TOY_BASE_MODEL_URL } from "../model/load_toy_model_node.ts";
import { toyPromptEncoder } from "../model/toy_sampler.ts";
import { clampImage, rewardBatch } from "../reward/reward.ts";

const PROMPTS = ["a large red circle in the center on a white background", "a small blue square at the top on a black background"];
const CONFIG = {
  epochs: 2,
  sampleBatchSize: 2,
  trainBatchSize: 8,
  steps: 6,
  divertStartStep: 2,
  poolSize: 2,
  threshold: 0,
  learningRate: 1e-3,
  latentShape: [3, 16, 16],
  validationCount: 0,
  seed: 7,
};

let device: Device;
let pipe: Awaited<ReturnType<typeof loadToyModel>>;
let runDir: string;
before(async () => {
  device = await testDevice();
  pipe = await loadToyModel(TOY_BASE_MODEL_URL, { device });
  runDir = await mkdtemp(join(tmpdir(), "spo-toy-run-"));
});
after(async () => {
  pipe.dispose();
  await rm(runDir, { recursive: true, force: true });
});

/** The exact reward of each image (the children's x̂₀, clamped to [−1, 1]). */
const exactReward = asStepScorer(async (images: Tensor, prompts: readonly string[]) =>
  rewardBatch(clampImage(Float32Array.from(await images.toArray())), prompts),
);

async function loraValues(trainer: SpoTrainer): Promise<Map<string, Float32Array>> {
  const values = new Map<string, Float32Array>();
  for (const [name, t] of trainer.adapter.stateDict()) values.set(name, Float32Array.from(await t.toArray()));
  return values;
}

describe("SPO on the toy base model", () => {
  it("trains two updates through the v-prediction UNet, checkpoints, and resumes from the saved LoRA", async () => {
    const { unet } = pipe.components;
    // the scheduler the model comes with: its config says v_prediction, which the trainer reads
    const scheduler = DDIMScheduler.fromConfig(pipe.components.schedulerConfig);
    assert.equal(scheduler.config.predictionType, "v_prediction");
    const models = { unet, scheduler, promptEncoder: toyPromptEncoder(pipe.components), scorer: exactReward };
    const store = folderCheckpointStore(runDir);

    await assert.rejects(
      SpoTrainer.create(models, CONFIG, { prompts: PROMPTS, store, predictionType: "epsilon" }),
      PredictionTypeError,
      "an option that contradicts the model's scheduler config",
    );
    assert.equal(await store.latest(), null);
    const first = await SpoTrainer.create(models, CONFIG, { prompts: PROMPTS, store });
    const initial = await loraValues(first);
    await first.run({ maxIterations: 1 });
    assert.equal(first.progress.update, 1);
    const m = first.metrics[0];
    assert.equal(m.pairsOffered, 8, "(6 − 2) branched steps × 2 prompts");
    assert.ok(m.pairsKept > 0 && Number.isFinite(m.meanScore!) && m.meanScore! > 0 && m.meanScore! < 1, JSON.stringify(m));
    assert.ok(Math.abs(m.loss - Math.LN2) < 1e-6, "the first update starts from zero up-weights");
    const trained = await loraValues(first);
    const changed = [...trained].filter(([name, v]) => name.includes("lora_B") && v.some((x, i) => x !== initial.get(name)![i]));
    assert.ok(changed.length > 0, "the update moves the LoRA's up-weights");
    assert.ok([...trained.values()].every((v) => v.every(Number.isFinite)));
    first.dispose();

    const saved = (await store.latest())!;
    assert.deepEqual(await readdir(join(runDir, "checkpoints", saved.name)).then((f) => f.includes("lora.safetensors")), true);
    const checkpoint = decodeCheckpoint(saved.files);
    assert.equal(checkpoint.progress.update, 1);
    for (const [name, v] of trained) assert.deepEqual(checkpoint.adapter.get(name)!.data, v, name);

    const resumed = await SpoTrainer.create(models, { epochs: 99 }, { prompts: PROMPTS, store, resume: true });
    assert.equal(resumed.config.epochs, 2, "the checkpoint's config wins");
    assert.equal(resumed.progress.update, 1);
    const atResume = await loraValues(resumed);
    for (const [name, v] of trained) assert.deepEqual(atResume.get(name), v, `${name} at resume`);
    await resumed.run();
    assert.ok(resumed.isDone);
    assert.equal(resumed.progress.update, 2);
    assert.equal(resumed.metrics.length, 2, "the first run's metrics came back with the checkpoint");
    assert.ok(Number.isFinite(resumed.metrics[1].loss));
    const last = decodeCheckpoint((await store.latest())!.files);
    assert.equal(last.progress.update, 2);
    const moved = [...(await loraValues(resumed))].some(([name, v]) => v.some((x, i) => x !== trained.get(name)![i]));
    assert.ok(moved, "the second update moves the LoRA again");
    resumed.dispose();
  });
});
