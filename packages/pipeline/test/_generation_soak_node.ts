/**
 * The generation soak shared by the default test (a few runs) and the heavy one (100 runs): a
 * tiny model generates `runs` times and the device's live bytes and buffer count are read before
 * loading, after loading, after the first generation and after the last, and after `dispose()`.
 */

import { rm } from "node:fs/promises";
import type { Device, MemoryStats } from "@spo/wgpu-tensor";
import { loadStableDiffusionPipeline } from "../pipeline/load_pipeline_node.ts";
import { writeTinyModel } from "./_tiny_model_node.ts";

/** Live memory at each stage of the soak. */
export interface SoakFigures {
  beforeLoad: MemoryStats;
  afterLoad: MemoryStats;
  afterFirst: MemoryStats;
  afterLast: MemoryStats;
  afterDispose: MemoryStats;
}

/**
 * Loads the tiny model on `device`, generates `runs` 16×16 images with CFG, disposes the pipeline.
 * `trainable` turns gradients back on for every weight after loading (a pipeline over models that
 * are being trained), so that generate() itself must turn autograd off.
 */
export async function generationSoak(device: Device, runs: number, options: { trainable?: boolean } = {}): Promise<SoakFigures> {
  const folder = await writeTinyModel();
  try {
    const beforeLoad = device.memory();
    const pipe = await loadStableDiffusionPipeline(folder, { device });
    if (options.trainable)
      for (const model of [pipe.components.textEncoder, pipe.components.unet, pipe.components.vae]) model?.requiresGrad_(true);
    const afterLoad = device.memory();
    let afterFirst = afterLoad;
    for (let i = 0; i < runs; i++) {
      await pipe.generate({
        prompt: "a (red:1.2) cat BREAK on a mat",
        negativePrompt: "blurry",
        numInferenceSteps: 1,
        guidanceScale: 3,
        width: 16,
        height: 16,
        seed: i,
      });
      if (i === 0) afterFirst = device.memory();
    }
    const afterLast = device.memory();
    pipe.dispose();
    return { beforeLoad, afterLoad, afterFirst, afterLast, afterDispose: device.memory() };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/** `liveBytes` and `liveBuffers` only, for comparing stages. */
export function live(stats: MemoryStats): { liveBytes: number; liveBuffers: number } {
  return { liveBytes: stats.liveBytes, liveBuffers: stats.liveBuffers };
}
