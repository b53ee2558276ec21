/**
 * Everything in `@spo/pipeline`, plus Node-only parts: loading a pipeline from a diffusers model
 * folder on disk and PNG encoding.
 *
 * @example
 * ```ts
 * import { loadStableDiffusionPipeline, toPng } from "@spo/pipeline/node";
 * const pipe = await loadStableDiffusionPipeline("/models/stable-diffusion-v1-5");
 * const { images } = await pipe.generate({ prompt: "a cat", seed: 42 });
 * await writeFile("cat.png", toPng(images[0]));
 * ```
 *
 * @module
 */

export * from "./mod.ts";
export { loadStableDiffusionPipeline } from "./pipeline/load_pipeline_node.ts";
export { folderModelSource, modelSourceOf } from "./pipeline/model_source_node.ts";
export { PNG_SIGNATURE, toPng } from "./pipeline/png_node.ts";
export { loraFolderResolver } from "./pipeline/lora_folder_node.ts";
export { main as runPipelineCommand } from "./cli/spo_node.ts";
