/**
 * Node's `loadStableDiffusionPipeline`: a diffusers model folder on disk, a `file:` URL, an
 * `http(s):` URL or any {@link ModelSource}.
 *
 * @module
 */

import { access } from "node:fs/promises";
import type { StableDiffusionPipeline } from "./stable_diffusion_pipeline.ts";
import { type LoadPipelineOptions, loadPipelineFromSource, ModelFolderError } from "./load_pipeline.ts";
import { isUrlString, type ModelSource } from "./model_source.ts";
import { modelSourceOf } from "./model_source_node.ts";

/**
 * Loads tokenizer, text encoder, UNet, VAE and scheduler config from a diffusers SD1.x folder
 * (only safetensors weights): a path, a URL, or a {@link ModelSource}. A missing folder or file
 * throws `ModelFolderError` naming it; a weight file without a tensor the model needs throws one
 * naming the part and the key.
 *
 * @example
 * ```ts
 * const pipe = await loadStableDiffusionPipeline("/models/stable-diffusion-v1-5");
 * const { images } = await pipe.generate({ prompt: "a cat", seed: 1 });
 * ```
 */
export async function loadStableDiffusionPipeline(
  source: ModelSource | string | URL,
  options: LoadPipelineOptions = {},
): Promise<StableDiffusionPipeline> {
  if (typeof source === "string" && !isUrlString(source)) {
    try {
      await access(source);
    } catch {
      throw new ModelFolderError(`Cannot load a Stable Diffusion model from "${source}": the folder does not exist`);
    }
  }
  const sourceOf = (location: string | URL) => modelSourceOf(location, options);
  return await loadPipelineFromSource(modelSourceOf(source, options), options, sourceOf);
}
