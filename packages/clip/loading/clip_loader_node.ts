import { fileURLToPath } from "node:url";
import { openWeights } from "@spo/torch-checkpoint/node";
import { Device, type Module, type ModelDType, resolveModelDType } from "@spo/wgpu-tensor";
import { loadPretrainedComponent } from "@spo/wgpu-tensor/node";
import { CLIPTextModel, CLIPTextModelWithProjection } from "../text_encoder/clip_text_model.ts";
import { SD15_TEXT_ENCODER_CONFIG } from "../transformer/clip_config.ts";
import { CLIPVisionModel, CLIPVisionModelWithProjection } from "../vision_encoder/clip_vision_model.ts";
import { loadClipWeights } from "./clip_checkpoint.ts";

/** Options of the folder loaders. */
export interface ClipFolderOptions {
  device?: Device;
  /** Storage dtype of weights and activations (default f32); "f16" without `shader-f16` gives f32 and a one-line notice. */
  dtype?: ModelDType;
  /** Weight file variant: `"fp16"` reads `model.fp16.safetensors` (or `pytorch_model.fp16.bin`). */
  variant?: string;
  strict?: boolean;
  onProgress?: (loaded: number, total: number, name: string) => void;
}

type Json = Record<string, unknown>;

/** `model[.variant].safetensors`, else transformers' `pytorch_model[.variant].bin`. */
function weightFiles(variant: string | undefined): string[] {
  const suffix = variant ? `.${variant}` : "";
  return [`model${suffix}.safetensors`, `pytorch_model${suffix}.bin`];
}

/** A CLIP tower from `<path>/<subfolder>` or `path`; .bin files are read without running their pickle. */
async function loadFromFolder<M extends Module>(
  path: string | URL,
  subfolder: string,
  build: (json: Json) => M,
  options: ClipFolderOptions,
): Promise<{ model: M }> {
  return await loadPretrainedComponent(path, {
    what: "a CLIP model",
    subfolder,
    weightFiles: weightFiles(options.variant),
    build,
    open: openWeights,
    load: (model, reader) => loadClipWeights(model, reader, { strict: options.strict, onProgress: options.onProgress }),
  });
}

function layerOptions(options: ClipFolderOptions) {
  return {
    init: "meta" as const,
    device: options.device,
    dtype: resolveModelDType(options.dtype, options.device ?? Device.default, "a CLIP model"),
  };
}

/**
 * Stable Diffusion's text encoder from a diffusers model folder (`text_encoder/config.json` and
 * `text_encoder/model.safetensors`) or a transformers model folder, streamed tensor by tensor.
 *
 * @example
 * ```ts
 * const textEncoder = await loadCLIPTextModel("/models/stable-diffusion-v1-5");
 * const { lastHiddenState } = textEncoder.forward(ids); // [B, 77, 768]
 * ```
 */
export async function loadCLIPTextModel(path: string | URL, options: ClipFolderOptions = {}): Promise<CLIPTextModel> {
  const { model } = await loadFromFolder(path, "text_encoder", (json) => CLIPTextModel.fromConfig(json, layerOptions(options)), options);
  return model;
}

/**
 * A text tower with its projection (`text_model.*`, `text_projection.weight`) from a transformers
 * folder (a `CLIPModel` or `CLIPTextModelWithProjection`), or a diffusers folder's `text_encoder_2/`.
 *
 * @example
 * ```ts
 * const text = await loadCLIPTextModelWithProjection("/models/clip-vit-large-patch14");
 * ```
 */
export async function loadCLIPTextModelWithProjection(
  path: string | URL,
  options: ClipFolderOptions = {},
): Promise<CLIPTextModelWithProjection> {
  const build = (json: Json) => CLIPTextModelWithProjection.fromConfig(json, layerOptions(options));
  const { model } = await loadFromFolder(path, "text_encoder_2", build, options);
  return model;
}

/**
 * The vision tower (`vision_model.*`) from a transformers folder (`CLIPModel` or `CLIPVisionModel`).
 *
 * @example
 * ```ts
 * const vision = await loadCLIPVisionModel("/models/clip-vit-large-patch14");
 * ```
 */
export async function loadCLIPVisionModel(path: string | URL, options: ClipFolderOptions = {}): Promise<CLIPVisionModel> {
  const { model } = await loadFromFolder(path, "image_encoder", (json) => CLIPVisionModel.fromConfig(json, layerOptions(options)), options);
  return model;
}

/**
 * The vision tower with its projection (`vision_model.*`, `visual_projection.weight`) from a
 * transformers folder, or a diffusers folder's `image_encoder/`.
 *
 * @example
 * ```ts
 * const vision = await loadCLIPVisionModelWithProjection("/models/clip-vit-large-patch14");
 * const { imageEmbeds } = vision.forward(pixelValues);
 * ```
 */
export async function loadCLIPVisionModelWithProjection(
  path: string | URL,
  options: ClipFolderOptions = {},
): Promise<CLIPVisionModelWithProjection> {
  const build = (json: Json) => CLIPVisionModelWithProjection.fromConfig(json, layerOptions(options));
  const { model } = await loadFromFolder(path, "image_encoder", build, options);
  return model;
}

/**
 * The text encoder inside a single-file SD checkpoint (`cond_stage_model.transformer.*`, A1111 `.ckpt` or
 * A1111/Civitai `.safetensors`, with or without the `text_model.` level), with SD1.5's text encoder
 * config unless another transformers config object is given.
 *
 * @example
 * ```ts
 * const textEncoder = await loadCLIPTextModelFromSingleFile("/models/v1-5-pruned-emaonly.safetensors");
 * ```
 */
export async function loadCLIPTextModelFromSingleFile(
  file: string | URL,
  config: Json = SD15_TEXT_ENCODER_CONFIG,
  options: Omit<ClipFolderOptions, "variant"> = {},
): Promise<CLIPTextModel> {
  const model = CLIPTextModel.fromConfig(config, layerOptions(options));
  const reader = await openWeights(typeof file === "string" ? file : fileURLToPath(file));
  try {
    await loadClipWeights(model, reader, { strict: options.strict, onProgress: options.onProgress });
    return model;
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    await reader.close();
  }
}
