// The tiny pipeline in Chromium (browser WebGPU on SwiftShader, model loaded by URL with range
// requests) against the same pipeline in Node (dawn.node, model loaded from the folder).
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Device } from "@spo/wgpu-tensor";
import { testDevice } from "@spo/wgpu-tensor/testing";
import { type BrowserSession, openBrowser } from "../../wgpu-tensor/testing/browser_node.ts";
import { loadStableDiffusionPipeline } from "../pipeline/load_pipeline_node.ts";
import type { PageGeneration } from "./browser/generate_entry.ts";
import { writeTinyModel } from "./_tiny_model_node.ts";

const ENTRY = fileURLToPath(new URL("./browser/generate_entry.ts", import.meta.url));
const TIMEOUT_MS = 180_000;

let device: Device;
let folder: string;
let session: BrowserSession;

before(
  async () => {
    device = await testDevice();
    folder = await writeTinyModel();
    session = await openBrowser({ timeoutMs: TIMEOUT_MS, files: folder });
  },
  { timeout: TIMEOUT_MS },
);

after(async () => {
  await session?.close();
  device?.destroy();
  if (folder) await rm(folder, { recursive: true, force: true });
});

describe("the tiny pipeline in Chromium", () => {
  test("gives the pixels Node gives for the same seed, loading the model folder by URL", { timeout: TIMEOUT_MS }, async (t) => {
    const options = {
      prompt: "a (green:1.2) house, [fog] BREAK night",
      negativePrompt: "blurry",
      numInferenceSteps: 3,
      guidanceScale: 5,
      seed: 21,
      width: 32,
      height: 32,
      scheduler: "euler_a" as const,
    };
    const pipe = await loadStableDiffusionPipeline(folder);
    const node = (await pipe.generate(options)).images[0]!.data;
    const other = (await pipe.generate({ ...options, seed: 22 })).images[0]!.data;
    pipe.dispose();

    // a URL relative to the page, as a web app would write it
    const page = await session.call<PageGeneration>(ENTRY, "generateFromUrl", "files", options);
    t.diagnostic(`page adapter: ${page.adapter}; Node adapter: ${device.adapter.description}`);
    assert.equal(page.rgba.length, node.length);
    let maxDiff = 0;
    let differing = 0;
    let seedDiffering = 0;
    for (let i = 0; i < node.length; i++) {
      const diff = Math.abs(page.rgba[i]! - node[i]!);
      maxDiff = Math.max(maxDiff, diff);
      if (diff > 0) differing++;
      if (other[i] !== node[i]) seedDiffering++;
    }
    t.diagnostic(`bytes differing: ${differing} of ${node.length}, max |Δ| ${maxDiff}; another seed changes ${seedDiffering}`);
    // Both adapters agree on the initial noise bit for bit (Philox, integer-only Box–Muller) and on
    // float kernels to a few ulps (packages/wgpu-tensor/test/browser). Through ~60 layers and 3
    // steps that stays ~1e-5 of the [0, 1] image, so an 8-bit value can only move where the float
    // sits next to a rounding boundary: by one level, in a small share of the bytes (measured: 1 byte
    // of 4,096; the model's final LayerNorm bias keeps A1111's emphasis rescaling well conditioned).
    assert.ok(maxDiff <= 1, `max byte difference ${maxDiff}`);
    assert.ok(differing <= node.length * 0.02, `${differing} bytes differ`);
    // the image reaches a canvas unchanged (alpha is 255, so no premultiplication loss)
    assert.deepEqual(page.canvasRgba, page.rgba);
    // and the comparison can fail: another seed changes most bytes
    assert.ok(seedDiffering > node.length / 2);
  });
});
