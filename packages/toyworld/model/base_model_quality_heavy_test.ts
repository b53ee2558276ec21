// Opt-in (SPO_HEAVY=1): the shipped base model is clearly better than chance on held-out prompts and
// clearly below rendered ground truth (a few minutes on a CPU adapter).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Device } from "@spo/wgpu-tensor";
import { testDevice } from "@spo/wgpu-tensor/testing";
import { reward } from "../reward/reward.ts";
import { meanWithInterval } from "../reward/statistics.ts";
import { formatPrompt } from "../world/grammar.ts";
import { renderScene } from "../world/render.ts";
import { WorldRandom } from "../world/rng.ts";
import { sampleScenes } from "../world/split.ts";
import { loadToyModel } from "./load_toy_model_node.ts";
import { sampleToyImages } from "./toy_sampler.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

test("base model on 24 held-out prompts: above uniform noise, below ground truth, intervals apart", async () => {
  const pipe = await loadToyModel(undefined, { device });
  try {
    const scenes = sampleScenes(24, { split: "heldout", seed: 77 });
    const prompts = scenes.map(formatPrompt);
    const images = await sampleToyImages(pipe.components, prompts, { seeds: prompts.map((_, i) => 500 + i) });
    const model = meanWithInterval(scenes.map((s, i) => reward(images.subarray(i * 768, (i + 1) * 768), s)));
    const truth = meanWithInterval(scenes.map((s, i) => reward(renderScene(s, { seed: 500 + i }), s)));
    const random = new WorldRandom(5);
    const noise = meanWithInterval(
      scenes.map((s) =>
        reward(
          Float32Array.from({ length: 768 }, () => random.uniform(-1, 1)),
          s,
        ),
      ),
    );
    assert.ok(model.low > noise.high, `model ${JSON.stringify(model)} vs noise ${JSON.stringify(noise)}`);
    assert.ok(model.high < truth.low, `model ${JSON.stringify(model)} vs ground truth ${JSON.stringify(truth)}`);
  } finally {
    pipe.dispose();
  }
});
