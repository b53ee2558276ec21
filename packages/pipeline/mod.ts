/**
 * The text-to-image pipeline for Stable Diffusion on WebGPU. For now: AUTOMATIC1111's prompt syntax,
 * parsed exactly like the webui does it — emphasis `(x)` `[x]` `(x:1.5)`, `BREAK`, and
 * `<lora:name:te:unet:dyn>` / other `<kind:args>` extra-network tags.
 *
 * @example
 * ```ts
 * import { parseExtraNetworks, parseLoraTags, parsePromptAttention } from "@spo/pipeline";
 * const prompt = "<lora:spo:0.8> a (red:1.2) cat, [blurry]";
 * parseLoraTags(prompt); // [{ name: "spo", teMultiplier: 0.8, unetMultiplier: 0.8, dynDim: null }]
 * parsePromptAttention(parseExtraNetworks(prompt).text);
 * // [[" a ", 1], ["red", 1.2], [" cat, ", 1], ["blurry", 0.9090909090909091]]
 * ```
 *
 * @module
 */

export { type PromptChunk, parsePromptAttention, PromptSyntaxError } from "./prompt/prompt_attention.ts";
export { type ExtraNetworkParams, extraNetworkParams, parseExtraNetworks, type ParsedExtraNetworks } from "./prompt/extra_networks.ts";
export { type LoraTag, loraTagFromParams, type LoraTagOptions, loraTagsFromNetworks, parseLoraTags } from "./prompt/lora_tags.ts";
export {
  type ChunkTokenizer,
  chunkParsedPrompt,
  emptyChunk,
  type PromptChunkOptions,
  type PromptTokenChunks,
  type TokenChunk,
  tokenizePromptChunks,
} from "./encoding/prompt_chunks.ts";
export {
  encodeChunkBatch,
  encodePrompts,
  type EncodePromptsOptions,
  type PromptTextEncoder,
  type TokenizedPrompts,
  tokenizePrompts,
} from "./encoding/prompt_encoder.ts";
export { createScheduler, type SamplingScheduler, SCHEDULER_NAMES, type SchedulerName } from "./pipeline/scheduler_factory.ts";
export { type RgbaImage, tensorToRgba, toImageData } from "./pipeline/images.ts";
export { assemblePng, PNG_SIGNATURE, type PngImage, pngScanlines } from "./pipeline/png.ts";
export {
  type GenerateOptions,
  type GenerateResult,
  type StableDiffusionComponents,
  StableDiffusionPipeline,
  type StepInfo,
} from "./pipeline/stable_diffusion_pipeline.ts";
export {
  type LoadPipelineOptions,
  loadPipelineFromSource,
  isPixelSpaceModel,
  loadStableDiffusionPipeline,
  missingModelFiles,
  ModelFolderError,
  REQUIRED_MODEL_FILES,
  requiredModelFiles,
} from "./pipeline/load_pipeline.ts";
export {
  DEFAULT_MODEL_TIMEOUT_MS,
  isUrlString,
  type ModelSource,
  ModelSourceError,
  toModelSource,
  urlModelSource,
  type UrlModelSourceOptions,
} from "./pipeline/model_source.ts";
export { applyPromptLoras, LoraFileError, LoraNotFoundError, type LoraResolver, type ResolvedLora } from "./pipeline/prompt_loras.ts";
