import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import type { Device } from "@spo/wgpu-tensor";
import { testDevice } from "@spo/wgpu-tensor/testing";
import { loadToyModel, TOY_BASE_MODEL_URL } from "./load_toy_model_node.ts";
import { sampleToyImages } from "./toy_sampler.ts";
import { TOY_SCHEDULER_CONFIG, TOY_TEXT_ENCODER_CONFIG, TOY_UNET_CONFIG } from "./toy_configs.ts";

/** SHA-256 of the shipped files, recorded with `sha256sum` when the weights were committed. */
const SHIPPED_SHA256: Record<string, string> = {
  "unet/diffusion_pytorch_model.safetensors": "8d433959761d0486f53b879f1a99b4efc1ea9e9a1a8ebc5c149c9292639c2992",
  "text_encoder/model.safetensors": "da23c10a3f9311243d2135b8661ed4fdfa817c553ab163178854eee480208e6b",
};

let device: Device;
let pipe: Awaited<ReturnType<typeof loadToyModel>>;
before(async () => {
  device = await testDevice();
  pipe = await loadToyModel(TOY_BASE_MODEL_URL, { device });
});
after(() => {
  pipe.dispose();
  device.destroy();
});

const prompts = [
  "a large red circle in the center on a white background",
  "a small blue square left of a large yellow circle on a black background",
];

describe("the shipped toy base model", () => {
  test("its weight files match the recorded checksums and its configs the package's", async () => {
    for (const [file, sha] of Object.entries(SHIPPED_SHA256)) {
      const bytes = await readFile(new URL(file, TOY_BASE_MODEL_URL));
      assert.equal(createHash("sha256").update(bytes).digest("hex"), sha, file);
    }
    const json = async (file: string) => JSON.parse(await readFile(new URL(file, TOY_BASE_MODEL_URL), "utf8"));
    assert.deepEqual(await json("unet/config.json"), TOY_UNET_CONFIG);
    assert.deepEqual(await json("text_encoder/config.json"), TOY_TEXT_ENCODER_CONFIG);
    assert.deepEqual(await json("scheduler/scheduler_config.json"), TOY_SCHEDULER_CONFIG);
  });

  test("loads through @spo/pipeline as a pixel-space SD model (no VAE, 16×16)", () => {
    const { unet, textEncoder, vae } = pipe.components;
    assert.equal(vae, null);
    assert.equal(unet.config.sampleSize, 16);
    assert.equal(unet.config.inChannels, 3);
    assert.equal(unet.parameterCount(), 792_387);
    assert.equal(textEncoder.parameterCount(), 1_600_672);
  });

  test("sampling with fixed seeds is deterministic, and an image depends only on its prompt and seed", async () => {
    const a = await sampleToyImages(pipe.components, prompts, { seeds: [1, 2], steps: 4 });
    const b = await sampleToyImages(pipe.components, prompts, { seeds: [1, 2], steps: 4 });
    assert.deepEqual(a, b);
    assert.ok(a.every((v) => v >= -1 && v <= 1));
    const c = await sampleToyImages(pipe.components, prompts, { seeds: [1, 3], steps: 4 });
    const half = a.length / 2;
    assert.deepEqual(c.subarray(0, half), a.subarray(0, half));
    assert.notDeepEqual(c.subarray(half), a.subarray(half));
  });

  test("pipeline.generate with a fixed seed gives the same pixels twice", async () => {
    const run = () => pipe.generate({ prompt: prompts[0]!, numInferenceSteps: 4, guidanceScale: 5, seed: 7 });
    const first = await run();
    const second = await run();
    assert.equal(first.images[0]!.width, 16);
    assert.deepEqual(first.images[0]!.data, second.images[0]!.data);
  });
});
