import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CLIPTextModel } from "@spo/clip";
import { DDPMScheduler, UNet2DConditionModel } from "@spo/diffusion-unet";
import type { Device } from "@spo/wgpu-tensor";
import { testDevice } from "@spo/wgpu-tensor/testing";
import { DiffusionTrainingError, trainDiffusionModel, type TrainDiffusionOptions } from "./train_diffusion_model.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

const UNET = {
  in_channels: 3,
  out_channels: 3,
  sample_size: 8,
  block_out_channels: [8, 16],
  layers_per_block: 1,
  norm_num_groups: 4,
  cross_attention_dim: 8,
  attention_head_dim: 2,
  down_block_types: ["CrossAttnDownBlock2D", "DownBlock2D"],
  up_block_types: ["UpBlock2D", "CrossAttnUpBlock2D"],
};
const TEXT = {
  hidden_size: 8,
  intermediate_size: 16,
  num_attention_heads: 2,
  num_hidden_layers: 1,
  max_position_embeddings: 8,
  vocab_size: 20,
  eos_token_id: 2,
};
/** A stand-in tokenizer: one id per word (mod 18, offset 2), padded to 8. */
const tokenizer = {
  encode: (text: string) =>
    [
      ...text
        .split(" ")
        .filter(Boolean)
        .map((w) => 2 + (w.length % 18)),
      1,
      1,
      1,
      1,
      1,
      1,
      1,
      1,
    ].slice(0, 8),
};
const schedule = DDPMScheduler.fromConfig({ beta_schedule: "linear", beta_start: 0.0001, beta_end: 0.02 }).schedule;

/** New models; with `like`, a copy of its weights (initialisation draws from a global stream, so a second build differs). */
function models(like?: { unet: UNet2DConditionModel; textEncoder: CLIPTextModel }) {
  const m = {
    unet: UNet2DConditionModel.fromConfig(UNET, { seed: 1, device }),
    textEncoder: CLIPTextModel.fromConfig(TEXT, { seed: 2, device }),
  };
  if (like) {
    m.unet.loadStateDict(like.unet.stateDict());
    m.textEncoder.loadStateDict(like.textEncoder.stateDict());
  }
  return m;
}

/** Batch i: a colour ramp that depends on i, with a caption. */
function data(index: number, batchSize: number) {
  const samples = Float32Array.from({ length: batchSize * 3 * 64 }, (_, k) => Math.sin(k * 0.1 + index) * 0.8);
  return { samples, captions: Array.from({ length: batchSize }, (_, b) => (b % 2 ? "a red thing" : "blue")) };
}

async function weights(module: {
  parameters(): Iterable<{ toArray(): Promise<Float32Array | Int32Array | Uint32Array> }>;
}): Promise<number[]> {
  const out: number[] = [];
  for (const p of module.parameters()) out.push(...(await p.toArray()));
  return out;
}

function options(m: ReturnType<typeof models>, overrides: Partial<TrainDiffusionOptions> = {}): TrainDiffusionOptions {
  return {
    ...m,
    tokenizer,
    noiseSchedule: schedule,
    data,
    sampleShape: [3, 8, 8],
    steps: 3,
    batchSize: 2,
    learningRate: 1e-2,
    trainTextEncoder: true,
    device,
    ...overrides,
  };
}

describe("trainDiffusionModel", () => {
  test("updates the UNet and the text encoder, reports finite losses, and a resumed run equals an uninterrupted one", async () => {
    const a = models();
    const b = models(a);
    const before = await weights(a.unet);
    const beforeText = await weights(a.textEncoder);
    const progress: number[] = [];
    const checkpoints: number[] = [];
    const full = await trainDiffusionModel(
      options(a, {
        onProgress: ({ step }) => void progress.push(step),
        onCheckpoint: (step) => void checkpoints.push(step),
        checkpointEvery: 2,
      }),
    );
    assert.deepEqual(progress, [1, 2, 3]);
    assert.deepEqual(checkpoints, [2, 3]);
    assert.ok(
      full.losses.every((l) => Number.isFinite(l) && l > 0),
      full.losses.join(" "),
    );
    const afterFull = await weights(a.unet);
    assert.notDeepEqual(afterFull, before);
    assert.notDeepEqual(await weights(a.textEncoder), beforeText);

    const first = await trainDiffusionModel(options(b, { steps: 2 }));
    const rest = await trainDiffusionModel(options(b, { startStep: 2, optimizer: first.optimizer }));
    assert.equal(rest.losses.length, 1);
    assert.deepEqual(await weights(b.unet), afterFull);
  });

  test("a frozen text encoder stays unchanged", async () => {
    const m = models();
    const text = await weights(m.textEncoder);
    await trainDiffusionModel(options(m, { steps: 1, trainTextEncoder: false }));
    assert.deepEqual(await weights(m.textEncoder), text);
  });

  test("bad options and batches are refused before any update", async () => {
    const m = models();
    const before = await weights(m.unet);
    await assert.rejects(trainDiffusionModel(options(m, { steps: 0 })), /steps must be a positive integer/);
    await assert.rejects(trainDiffusionModel(options(m, { promptDropout: 1.5 })), DiffusionTrainingError);
    await assert.rejects(trainDiffusionModel(options(m, { sampleShape: [4, 8, 8] })), /4 channels, the UNet takes 3/);
    await assert.rejects(
      trainDiffusionModel(options(m, { data: () => ({ samples: new Float32Array(5), captions: ["x", "y"] }) })),
      /expected 2 captions and 2×3×8×8 = 384 values/,
    );
    assert.deepEqual(await weights(m.unet), before);
  });
});
