/**
 * The tiny pipeline loaded with `dtype: "f16"` against the same weights in f32: the image agrees
 * within what f16 storage rounding allows, and the weights and the generation's peak bytes halve.
 */
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { after, before, test } from "node:test";
import type { Device } from "@spo/wgpu-tensor";
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

/** Loads in `dtype`, generates one 32×32 image (4 DDIM steps, CFG 3); bytes of the weights and the generation's peak above the empty device. */
async function run(dtype: "f32" | "f16") {
  const empty = device.memory().liveBytes;
  const pipe = await loadStableDiffusionPipeline(folder, { device, dtype });
  try {
    const weightBytes = device.memory().liveBytes - empty;
    device.pool.resetPeak();
    const { images } = await pipe.generate({
      prompt: "a (red:1.2) cat",
      negativePrompt: "blurry",
      numInferenceSteps: 4,
      guidanceScale: 3,
      seed: 1,
    });
    const peakBytes = device.memory().peakBytes - empty;
    const dtypes = [pipe.components.textEncoder, pipe.components.unet, pipe.components.vae!].map((m) => m.parameters()[0]!.dtype);
    return { weightBytes, peakBytes, pixels: images[0]!.data, dtypes };
  } finally {
    pipe.dispose();
  }
}

test("f16 weights and activations: the image stays within f16 rounding of the f32 one, weights and peak bytes halve", async (t) => {
  if (!device.hasF16) {
    t.diagnostic("this adapter has no shader-f16: checking the f32 fallback instead");
    assert.deepEqual((await run("f16")).dtypes, ["f32", "f32", "f32"]);
    return;
  }
  const full = await run("f32");
  const half = await run("f16");
  assert.deepEqual(half.dtypes, ["f16", "f16", "f16"]);

  // The image is not flat (a constant image would agree trivially).
  const red = Array.from(full.pixels.filter((_, i) => i % 4 === 0));
  assert.ok(Math.max(...red) - Math.min(...red) > 20, "the f32 image has structure");

  // Bound. f16 stores each activation with relative error ≤ u = 2⁻¹¹ (matmul, conv, attention and
  // norm statistics accumulate in f32, so a layer adds one rounding, not one per term). The longest
  // chain of roundings in this pipeline (2 CLIP layers ≈ 12, UNet ≈ 30, VAE ≈ 25, i.e. L ≈ 70; the
  // latents between steps are f32) with normalised layers of gain ≈ 1 gives a worst-case relative
  // error ≈ L·u ≈ 0.034 of the [−1, 1] range, i.e. 0.034 · 127.5 ≈ 4.4 levels of 255, and a random
  // walk's typical error √L·u ≈ 0.004, i.e. ≈ 0.5 levels. So: every channel within 5 levels (4.4
  // plus one for the 8-bit quantisation step), the mean within 0.5.
  let worst = 0;
  let total = 0;
  let count = 0;
  full.pixels.forEach((value, i) => {
    if (i % 4 === 3) return; // alpha
    const diff = Math.abs(value - half.pixels[i]!);
    worst = Math.max(worst, diff);
    total += diff;
    count++;
  });
  t.diagnostic(`max |Δ| ${worst} levels, mean ${(total / count).toFixed(3)}`);
  assert.ok(worst <= 5, `max pixel difference ${worst} > 5 levels`);
  assert.ok(total / count <= 0.5, `mean pixel difference ${total / count} > 0.5 levels`);

  // Memory. Every weight halves; only the CLIP position-id buffer (i32) and the pool's bucket
  // rounding of small tensors stay, so the weights ratio lies in [0.5, 0.52]. The peak is the
  // weights plus activations, which are f16 too except the f32 latents, context and image (under
  // 5% here), so its ratio lies below 0.55.
  const weightRatio = half.weightBytes / full.weightBytes;
  const peakRatio = half.peakBytes / full.peakBytes;
  t.diagnostic(
    `weights ${full.weightBytes} → ${half.weightBytes} B (×${weightRatio.toFixed(3)}), peak ${full.peakBytes} → ${half.peakBytes} B (×${peakRatio.toFixed(3)})`,
  );
  assert.ok(weightRatio >= 0.5 && weightRatio <= 0.52, `weights ratio ${weightRatio}`);
  assert.ok(peakRatio <= 0.55, `peak ratio ${peakRatio}`);
});
