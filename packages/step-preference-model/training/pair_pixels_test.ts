import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { concat, type Device, interpolate, narrow } from "@spo/wgpu-tensor";
import { assertClose, testDevice } from "@spo/wgpu-tensor/testing";
import { StepPreferenceModel } from "../model/step_preference_model.ts";
import { preprocessImages } from "../preprocess/preprocess.ts";
import { colorPairs, TINY_CONFIG } from "../test/_color_world.ts";
import type { DenoiseRequest } from "./pairs.ts";
import { pairPixels } from "./train.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

test("pairPixels: only pairs at t > 0 reach the denoiser (A sides then B sides, shared t and seed); t = 0 pairs keep their clean images", async () => {
  const model = StepPreferenceModel.fromConfig(TINY_CONFIG, { device, seed: 3 });
  const batch = colorPairs(7, 3, device);
  const requests: { shape: number[]; prompts: string[]; timesteps: number[]; noiseSeeds: number[] }[] = [];
  // a "denoiser" that returns the image at twice the size: the pixels must still come out 8×8
  const denoiser = (request: DenoiseRequest) => {
    requests.push({
      shape: [...request.images.shape],
      prompts: [...request.prompts],
      timesteps: [...request.timesteps],
      noiseSeeds: [...request.noiseSeeds],
    });
    return interpolate(request.images, { size: [16, 16], mode: "bilinear" });
  };
  const pixels = await pairPixels(model, batch, [0, 500, 900], [11, 22, 33], denoiser);
  assert.deepEqual(pixels.shape, [6, 3, 8, 8]);
  assert.deepEqual(requests, [
    {
      shape: [4, 3, 8, 8],
      prompts: [batch.prompts[1], batch.prompts[2], batch.prompts[1], batch.prompts[2]],
      timesteps: [500, 900, 500, 900],
      noiseSeeds: [22, 33, 22, 33],
    },
  ]);
  const options = { imageSize: 8, mean: model.config.imageMean, std: model.config.imageStd };
  const clean = preprocessImages(concat([batch.imagesA, batch.imagesB], 0), options);
  for (const row of [0, 3]) {
    assertClose(
      await narrow(pixels, 0, row, 1).toArray(),
      await narrow(clean, 0, row, 1).toArray(),
      { atol: 0, rtol: 0 },
      `row ${row} is clean`,
    );
  }
  const upsampled = preprocessImages(interpolate(concat([batch.imagesA, batch.imagesB], 0), { size: [16, 16], mode: "bilinear" }), options);
  assertClose(
    await narrow(pixels, 0, 4, 1).toArray(),
    await narrow(upsampled, 0, 4, 1).toArray(),
    { atol: 1e-6, rtol: 1e-6 },
    "row 4 went through the denoiser",
  );
  model.dispose();
});
