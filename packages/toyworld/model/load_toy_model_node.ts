import { loadStableDiffusionPipeline, type StableDiffusionPipeline } from "@spo/pipeline/node";
import type { Device } from "@spo/wgpu-tensor";
import type { ToyModel } from "./toy_sampler.ts";

/** The shipped base model: a diffusers folder in this package (`assets/base_model/`). */
export const TOY_BASE_MODEL_URL: URL = new URL("../assets/base_model/", import.meta.url);

/**
 * Loads a toy model folder (default: the shipped base model) with @spo/pipeline's loader, exactly
 * as `spo generate --model` does, and returns the pipeline; `pipeline.components` is a `ToyModel`.
 *
 * @example
 * ```ts
 * const pipe = await loadToyModel();
 * const images = await sampleToyImages(pipe.components as ToyModel, ["a small blue square at the top on a black background"]);
 * ```
 */
export async function loadToyModel(
  folder: string | URL = TOY_BASE_MODEL_URL,
  options: { device?: Device } = {},
): Promise<StableDiffusionPipeline & { components: ToyModel }> {
  const path = folder instanceof URL ? decodeURIComponent(folder.pathname) : folder;
  return (await loadStableDiffusionPipeline(path, { device: options.device })) as StableDiffusionPipeline & { components: ToyModel };
}
