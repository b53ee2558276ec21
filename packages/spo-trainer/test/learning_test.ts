// SPO learns what its scorer prefers: on a tiny pixel-space UNet (3×8×8 "images", identity
// decode) with a scorer that prefers brighter images, two short epochs raise the mean pixel of
// fixed-seed validation samples and the mean score of the sampled children (fixed seeds).
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { mean, noGrad, type Tensor } from "@spo/wgpu-tensor";
import { testDevice } from "@spo/wgpu-tensor/testing";
import { SpoTrainer } from "../training/spo_trainer.ts";
import { sampleImages } from "../training/validation.ts";
import { sd15Scheduler, tinyUnet, wordPromptEncoder } from "./_tiny.ts";

let unet: ReturnType<typeof tinyUnet>;
before(async () => {
  await testDevice();
  unet = tinyUnet(21, 3);
});
after(() => unet.dispose());

const PROMPTS = ["a red circle", "a blue square", "a green dot", "two yellow stars"];
const brightness = async (images: Tensor) => Float32Array.from(await noGrad(() => mean(images, [1, 2, 3])).toArray(), (v) => 20 * v);

it("moves samples towards what the scorer prefers (brighter) in two short epochs", async () => {
  const scheduler = sd15Scheduler();
  const validationBrightness = async () => {
    const images = await sampleImages({ unet, scheduler, promptEncoder: wordPromptEncoder }, "a red circle", {
      seed: 7,
      count: 8,
      steps: 10,
      latentShape: [3, 8, 8],
    });
    const value = await noGrad(() => mean(images)).item();
    images.dispose();
    return value;
  };
  const startBrightness = await validationBrightness();
  const trainer = await SpoTrainer.create(
    { unet, scheduler, promptEncoder: wordPromptEncoder, scorer: brightness },
    {
      seed: 1,
      epochs: 2,
      sampleBatchSize: 4,
      trainBatchSize: 10,
      steps: 10,
      divertStartStep: 2,
      poolSize: 4,
      threshold: 0.3,
      latentShape: [3, 8, 8],
      learningRate: 1e-2,
      validationCount: 0,
    },
    { prompts: PROMPTS },
  );
  await trainer.run();
  const endBrightness = await validationBrightness();
  const scores = trainer.metrics.map((m) => m.meanScore!);
  trainer.dispose();
  console.log(
    `validation mean pixel ${startBrightness.toFixed(4)} → ${endBrightness.toFixed(4)}; sampled mean score ${scores[0].toFixed(2)} → ${scores.at(-1)!.toFixed(2)} over ${scores.length} updates`,
  );
  assert.ok(endBrightness > startBrightness + 0.03, `validation brightness ${startBrightness} → ${endBrightness}`);
  assert.ok(scores.at(-1)! > scores[0] + 2, `mean score ${scores[0]} → ${scores.at(-1)}`);
});
