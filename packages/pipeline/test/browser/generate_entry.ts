/**
 * Browser entry of the Node-vs-Chromium pipeline test: loads the tiny model folder from a URL
 * (range requests for the weights) and generates, on the page's own WebGPU device.
 * Imports only browser-safe modules.
 * @module
 */
import { Device } from "@spo/wgpu-tensor";
import { loadStableDiffusionPipeline, toImageData } from "../../mod.ts";
import type { GenerateOptions } from "../../pipeline/stable_diffusion_pipeline.ts";

/** What the page sends back: the image bytes and the adapter. */
export interface PageGeneration {
  rgba: Uint8Array;
  adapter: string;
  /** The bytes of `toImageData(image)` as a canvas 2D context reads them back. */
  canvasRgba: Uint8Array;
}

/** Generates one image from the model folder at `modelUrl` with `options` (no callbacks). */
export async function generateFromUrl(
  modelUrl: string,
  options: Omit<GenerateOptions, "onStep" | "onLoraTags" | "loras">,
): Promise<PageGeneration> {
  const device = await Device.create();
  Device.setDefault(device);
  try {
    const pipe = await loadStableDiffusionPipeline(modelUrl, { device });
    try {
      const { images } = await pipe.generate(options);
      const image = images[0]!;
      const canvas = new OffscreenCanvas(image.width, image.height);
      const context = canvas.getContext("2d")!;
      context.putImageData(toImageData(image), 0, 0);
      const canvasRgba = new Uint8Array(context.getImageData(0, 0, image.width, image.height).data.buffer);
      return {
        canvasRgba,
        rgba: new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength),
        adapter: [device.adapter.vendor, device.adapter.architecture, device.adapter.description].filter(Boolean).join(" / "),
      };
    } finally {
      pipe.dispose();
    }
  } finally {
    device.destroy();
  }
}
