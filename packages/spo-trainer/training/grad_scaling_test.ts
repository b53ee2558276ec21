// Loss scaling in the SPO trainer on a tiny UNet with f16 weights and activations: an f16 UNet gets
// a GradScaler by default (f32 none); an update whose scaled gradients overflow f16 is skipped —
// the LoRA and AdamW's step count unchanged, the scale lowered — and updates that do not overflow
// move the LoRA like the same run without scaling.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { UNet2DConditionModel } from "@spo/diffusion-unet";
import { type Device, GradScaler, type Tensor } from "@spo/wgpu-tensor";
import { testDevice } from "@spo/wgpu-tensor/testing";
import { meanPixels, sd15Scheduler, tinyUnet, tinyUnetConfig, wordPromptEncoder } from "../test/_tiny.ts";
import { memoryCheckpointStore } from "../checkpoint/training_checkpoint.ts";
import { SpoTrainer } from "./spo_trainer.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});

const PROMPTS = ["a red circle", "a blue square"];
// one iteration: (4 − 1) steps × 2 prompts = 6 pairs, minibatches of 3: two updates
const SMALL = {
  epochs: 1,
  sampleBatchSize: 2,
  trainBatchSize: 3,
  steps: 4,
  divertStartStep: 1,
  poolSize: 2,
  threshold: 0,
  latentShape: [4, 8, 8],
  validationCount: 0,
  learningRate: 1e-3,
};
const brightness = async (images: Tensor) => Float32Array.from(await meanPixels(images), (v) => 40 * v);

function halfUnet(): UNet2DConditionModel {
  const unet = UNet2DConditionModel.fromConfig(tinyUnetConfig(), { seed: 5, dtype: "f16" });
  unet.requiresGrad_(false);
  return unet;
}

async function loraValues(trainer: SpoTrainer): Promise<Float32Array[]> {
  return Promise.all(trainer.adapter.parameters().map(async (p) => Float32Array.from(await p.toArray())));
}

/** Trains one iteration; the LoRA before the first update and after each update, and the scale after each. */
async function train(unet: UNet2DConditionModel, gradScaler?: GradScaler | null) {
  const snapshots: Float32Array[][] = [];
  const scales: number[] = [];
  let trainer: SpoTrainer | null = null;
  trainer = await SpoTrainer.create({ unet, scheduler: sd15Scheduler(), promptEncoder: wordPromptEncoder, scorer: brightness }, SMALL, {
    prompts: PROMPTS,
    gradScaler,
    onMetrics: async () => {
      snapshots.push(await loraValues(trainer!));
      scales.push(trainer!.scaler?.scale ?? 1);
    },
  });
  const initial = await loraValues(trainer);
  // the gradients AdamW steps with (after unscaling and clipping), read at each step
  const gradients: Promise<Float32Array[]>[] = [];
  const optimizer = trainer.optimizer;
  const step = optimizer.step.bind(optimizer);
  optimizer.step = () => {
    gradients.push(Promise.all(optimizer.params.map(async (p) => Float32Array.from(await p.grad!.toArray()))));
    step();
  };
  await trainer.run();
  const result = {
    initial,
    snapshots,
    scales,
    gradients: await Promise.all(gradients),
    skipped: trainer.skippedUpdates,
    steps: trainer.optimizer.stepCount,
    trainer,
  };
  trainer.dispose();
  return result;
}

describe("loss scaling in SpoTrainer", () => {
  it("gives an f16 UNet a GradScaler by default, an f32 UNet none", async (t) => {
    const full = tinyUnet(5);
    const fullTrainer = await SpoTrainer.create(
      { unet: full, scheduler: sd15Scheduler(), promptEncoder: wordPromptEncoder, scorer: brightness },
      SMALL,
      { prompts: PROMPTS },
    );
    assert.equal(fullTrainer.scaler, null);
    fullTrainer.dispose();
    full.dispose();
    if (!device.hasF16) return t.diagnostic("no shader-f16 on this adapter");
    const half = halfUnet();
    const halfTrainer = await SpoTrainer.create(
      { unet: half, scheduler: sd15Scheduler(), promptEncoder: wordPromptEncoder, scorer: brightness },
      SMALL,
      { prompts: PROMPTS },
    );
    assert.equal(halfTrainer.scaler?.scale, 65536);
    halfTrainer.dispose();
    half.dispose();
  });

  it("skips an update whose scaled gradients overflow f16 (LoRA unchanged, scale lowered), then trains on", async (t) => {
    if (!device.hasF16) return t.diagnostic("no shader-f16 on this adapter");
    const unet = halfUnet();
    // 2⁴⁰ × any gradient above 6e-8 exceeds f16's 65504; after the skip the scale is 2⁴⁰ · 2⁻³⁰ = 1024
    const run = await train(unet, new GradScaler({ initScale: 2 ** 40, backoffFactor: 2 ** -30 }));
    unet.dispose();
    assert.equal(run.snapshots.length, 2, "two updates");
    assert.deepEqual(run.snapshots[0], run.initial, "the overflowing update left the LoRA bit for bit");
    assert.equal(run.scales[0], 1024, "and lowered the scale");
    assert.equal(run.skipped, 1);
    assert.equal(run.steps, 1, "AdamW stepped once (the second update only)");
    const moved = run.snapshots[1]!.some((values, i) => values.some((v, j) => v !== run.initial[i]![j]));
    assert.ok(moved, "the second update changed the LoRA");
    assert.ok(run.snapshots[1]!.every((values) => values.every(Number.isFinite)));
  });

  it("takes the unscaled run's gradients when nothing overflows, whatever the scale", async (t) => {
    if (!device.hasF16) return t.diagnostic("no shader-f16 on this adapter");
    // one UNet for the three runs (init draws advance a global offset, so a second UNet would differ)
    const unet = halfUnet();
    const small = await train(unet, new GradScaler({ initScale: 1024 }));
    const large = await train(unet, new GradScaler({ initScale: 65536 }));
    const plain = await train(unet, null);
    unet.dispose();
    assert.equal(small.scales[0], 1024, "the first update was taken (the scale would have dropped)");
    assert.equal(large.scales[0], 65536, "the first update was taken (the scale would have dropped)");
    assert.equal(small.trainer.metrics[0]!.loss, plain.trainer.metrics[0]!.loss, "scaling does not touch the forward pass");
    // the first update's gradients (later ones start from LoRAs that AdamW's normalised steps
    // have already pulled apart): what AdamW stepped with, after unscaling
    const first = (run: typeof plain) => run.gradients[0]!.flatMap((values) => [...values]);
    const [g1024, g65536, g1] = [first(small), first(large), first(plain)];
    assert.equal(large.steps, large.gradients.length);
    const largest = Math.max(...g1.map(Math.abs));
    const worst = (a: number[], b: number[]) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0) / largest;
    t.diagnostic(
      `max |g| ${largest.toExponential(2)}; scale 1024 vs 65536: ${worst(g1024, g65536).toExponential(2)}, 1024 vs unscaled: ${worst(g1024, g1).toExponential(2)} (of max |g|)`,
    );
    assert.ok(largest > 0, "the update has gradients");
    // Multiplying by a power of two and dividing again is exact in f16 and f32 while values stay in
    // the normal ranges, so two scales give the same gradients up to f32 rounding of the sums.
    assert.ok(worst(g1024, g65536) <= 1e-6, "two scales, the same gradients");
    // Unscaled, activation gradients below f16's smallest normal (6.1e-5) lose bits or flush to
    // zero; they are the small ones, so the difference stays a small part of the largest gradient.
    assert.ok(worst(g1024, g1) <= 1e-2, "scaled and unscaled gradients agree up to f16 underflow");
  });

  it("checkpoints the scale and its clean-step count, and a resumed run continues from them", async (t) => {
    if (!device.hasF16) return t.diagnostic("no shader-f16 on this adapter");
    const unet = halfUnet();
    const store = memoryCheckpointStore();
    // the first update overflows (scale 2⁴⁰ → 1024), the second is clean (1 clean step); the epoch's end checkpoints
    const options = { prompts: PROMPTS, store };
    const models = { unet, scheduler: sd15Scheduler(), promptEncoder: wordPromptEncoder, scorer: brightness };
    const first = await SpoTrainer.create(models, SMALL, {
      ...options,
      gradScaler: new GradScaler({ initScale: 2 ** 40, backoffFactor: 2 ** -30 }),
    });
    await first.run();
    const saved = first.scaler!.stateDict();
    first.dispose();
    assert.deepEqual(saved, { scale: 1024, cleanSteps: 1 });
    const resumed = await SpoTrainer.create(models, SMALL, { ...options, resume: true, gradScaler: new GradScaler() });
    assert.deepEqual(resumed.scaler!.stateDict(), saved, "the fresh scaler took the checkpoint's state");
    resumed.dispose();
    unet.dispose();
  });
});

after(() => device?.destroy());
