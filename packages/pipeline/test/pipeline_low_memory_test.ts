/**
 * Low-memory mode on the tiny pipeline: the text encoder and VAE are on the GPU only while they
 * run, so the weights resident between calls are the UNet's, the generation's peak drops by at
 * least the smaller of the two models, and the image is the same, bit for bit.
 */
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { after, before, test } from "node:test";
import type { Device, Module } from "@spo/wgpu-tensor";
import { testDevice } from "@spo/wgpu-tensor/testing";
import { loadStableDiffusionPipeline } from "../pipeline/load_pipeline_node.ts";
import { writeTinyModel } from "./_tiny_model_node.ts";

let device: Device;
let folder: string;

before(async () => {
  device = await testDevice();
  folder = await writeTinyModel();
});

after(async () => {
  await rm(folder, { recursive: true, force: true });
  device?.destroy();
});

const bytesOf = (m: Module) => [...m.stateDict().values()].reduce((n, t) => n + Math.ceil(t.byteLength / 4) * 4, 0);
const options = { prompt: "a (red:1.2) cat", negativePrompt: "blurry", numInferenceSteps: 3, guidanceScale: 3, seed: 5 };

/** Live bytes after loading, the peak of each of two generations, live bytes after them (all above the empty device). */
async function run(lowMemory: boolean) {
  await device.sync();
  device.pool.trim();
  const empty = device.memory().liveBytes;
  const pipe = await loadStableDiffusionPipeline(folder, { device, lowMemory });
  try {
    await device.sync();
    const afterLoad = device.memory().liveBytes - empty;
    const images: Uint8ClampedArray[] = [];
    const peaks: number[] = [];
    for (let round = 0; round < 2; round++) {
      device.pool.resetPeak();
      images.push((await pipe.generate(options)).images[0]!.data);
      peaks.push(device.memory().peakBytes - empty);
    }
    await device.sync();
    const afterGenerate = device.memory().liveBytes - empty;
    const { unet, textEncoder, vae } = pipe.components;
    return {
      pipe,
      afterLoad,
      peaks,
      afterGenerate,
      images,
      unetBytes: bytesOf(unet),
      offloadedBytes: bytesOf(textEncoder) + bytesOf(vae!),
      smaller: Math.min(bytesOf(textEncoder), bytesOf(vae!)),
    };
  } finally {
    pipe.dispose();
  }
}

test("lowMemory: only the UNet stays on the GPU, the peak drops, the images are identical", async (t) => {
  const normal = await run(false);
  const low = await run(true);
  t.diagnostic(
    `resident after load ${normal.afterLoad} → ${low.afterLoad} B; peak ${normal.peaks[0]} → ${low.peaks[0]} B (×${(low.peaks[0]! / normal.peaks[0]!).toFixed(3)})`,
  );
  assert.equal(low.pipe.isLowMemory, true);
  assert.equal(normal.pipe.isLowMemory, false);

  // the UNet's weights are all that stays (pool buckets round small tensors up, never down)
  assert.ok(low.afterLoad >= low.unetBytes && low.afterLoad < normal.afterLoad, `resident ${low.afterLoad} B`);
  assert.ok(normal.afterLoad - low.afterLoad >= low.offloadedBytes, "the text encoder's and VAE's bytes left the GPU");
  assert.equal(low.afterGenerate, low.afterLoad, "generate() puts nothing back for good");
  assert.equal(normal.afterGenerate, normal.afterLoad);

  // the three models are never on the GPU together: the peak drops by at least the smaller of the
  // text encoder and the VAE (whichever phase holds the peak, one of them is off the GPU)
  for (const [i, peak] of low.peaks.entries()) {
    assert.ok(peak <= normal.peaks[i]! - low.smaller, `generation ${i}: peak ${peak} B, not below ${normal.peaks[i]! - low.smaller} B`);
  }

  // the same image, every time (the weights come back bit for bit)
  const red = Array.from(normal.images[0]!.filter((_, i) => i % 4 === 0));
  assert.ok(Math.max(...red) - Math.min(...red) > 20, "the image has structure");
  assert.deepEqual(low.images[0], normal.images[0]);
  assert.deepEqual(low.images[1], normal.images[0]);
  assert.deepEqual(normal.images[1], normal.images[0]);
});

test("lowMemory can be turned on after loading: the same image, the two models off the GPU between calls", async () => {
  const pipe = await loadStableDiffusionPipeline(folder, { device });
  try {
    const want = (await pipe.generate(options)).images[0]!.data;
    await pipe.enableLowMemory();
    assert.ok(pipe.components.textEncoder.parameters()[0]!.isMeta, "the text encoder's weights are off the GPU");
    assert.deepEqual((await pipe.generate(options)).images[0]!.data, want);
    assert.ok(pipe.components.vae!.parameters()[0]!.isMeta, "the VAE's weights are off the GPU again after decoding");
  } finally {
    pipe.dispose();
  }
});
