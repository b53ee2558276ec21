/**
 * Loading a `StableDiffusionPipeline` from a diffusers model folder behind any {@link ModelSource}
 * (a URL in browsers and Node, a folder on disk in Node). Every required file is checked first,
 * so a missing one is named before any weight is read; weights stream tensor by tensor.
 *
 * @module
 */

import { CLIPTextModel, CLIPTokenizer, loadClipWeights } from "@spo/clip";
import { UNet2DConditionModel } from "@spo/diffusion-unet";
import type { SafetensorsReader } from "@spo/safetensors";
import { AutoencoderKL, loadAutoencoderKLWeights, loadTaesdWeights, TAESD } from "@spo/vae";
import { Device, type LoadReport, loadWeights, type ModelDType, type Module, offloadToHost, resolveModelDType } from "@spo/wgpu-tensor";
import { type ModelSource, toModelSource, type UrlModelSourceOptions } from "./model_source.ts";
import { StableDiffusionPipeline } from "./stable_diffusion_pipeline.ts";

/** Thrown when a model folder lacks a file or a weight file lacks a tensor; the message names which. */
export class ModelFolderError extends Error {
  override name = "ModelFolderError";
}

/** Weight file names by variant: `undefined` (f32 or whatever was saved) or `"fp16"`. */
function weightFiles(variant: string | undefined) {
  const infix = variant ? `.${variant}` : "";
  return {
    textEncoder: `text_encoder/model${infix}.safetensors`,
    unet: `unet/diffusion_pytorch_model${infix}.safetensors`,
    vae: `vae/diffusion_pytorch_model${infix}.safetensors`,
  };
}

/**
 * The files a diffusers SD1.x folder must hold (relative paths), for a weights variant such as
 * "fp16"; `{ vae: false }` for a pixel-space model (see {@link isPixelSpaceModel}).
 */
export function requiredModelFiles(variant?: string, options: { vae?: boolean } = {}): string[] {
  const weights = weightFiles(variant);
  const files = [
    "tokenizer/vocab.json",
    "tokenizer/merges.txt",
    "text_encoder/config.json",
    weights.textEncoder,
    "unet/config.json",
    weights.unet,
    "vae/config.json",
    weights.vae,
    "scheduler/scheduler_config.json",
  ];
  return options.vae === false ? files.filter((file) => !file.startsWith("vae/")) : files;
}

/**
 * Whether the folder is a pixel-space model: its `model_index.json` names no VAE (`"vae": null` or
 * `[null, null]`, as diffusers writes an absent component). The UNet then samples images directly.
 */
export async function isPixelSpaceModel(source: ModelSource): Promise<boolean> {
  if (!(await source.exists("model_index.json"))) return false;
  const vae = (await readJson(source, "model_index.json")).vae;
  return vae === null || (Array.isArray(vae) && vae.every((v) => v === null));
}

/** The files a diffusers SD1.x folder must hold with f32 (default variant) weights. */
export const REQUIRED_MODEL_FILES: readonly string[] = requiredModelFiles();

/** Options of {@link loadStableDiffusionPipeline}. */
export interface LoadPipelineOptions extends UrlModelSourceOptions {
  device?: Device;
  /** Weights variant: `"fp16"` reads `…/diffusion_pytorch_model.fp16.safetensors` and `model.fp16.safetensors` (converted to `dtype`). */
  variant?: string;
  /**
   * Storage dtype of the text encoder, UNet and VAE weights and activations (default f32). "f16"
   * halves their memory on devices with `shader-f16` (the scheduler, prompt weighting and TAESD stay
   * f32: PRECISION_RULES); without it the models are f32 and one line says so.
   */
  dtype?: ModelDType;
  /**
   * TAESD for live previews: a source of a diffusers `AutoencoderTiny` folder (config.json and
   * diffusion_pytorch_model.safetensors), or a URL (a path in Node) of that folder or of one
   * `.safetensors` file with both halves.
   */
  taesd?: ModelSource | string | URL;
  /**
   * Low-memory mode ({@link StableDiffusionPipeline.enableLowMemory}): the text encoder and VAE
   * weights go to host memory as soon as each is loaded, and are on the GPU only while they run.
   */
  lowMemory?: boolean;
  /** Called as each part starts loading ("tokenizer", "text_encoder", "unet", "vae", "taesd"). */
  onProgress?: (part: string) => void;
}

/**
 * The files of {@link requiredModelFiles} that `source` lacks (empty when it is complete).
 *
 * @example
 * ```ts
 * await missingModelFiles(urlModelSource("https://example.com/sd15/")); // [] or e.g. ["unet/diffusion_pytorch_model.safetensors"]
 * ```
 */
export async function missingModelFiles(source: ModelSource, variant?: string): Promise<string[]> {
  const files = requiredModelFiles(variant, { vae: !(await isPixelSpaceModel(source)) });
  const present = await Promise.all(files.map((file) => source.exists(file)));
  return files.filter((_, i) => !present[i]);
}

async function readJson(source: ModelSource, path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await source.readText(path)) as Record<string, unknown>;
}

/** Builds a shape-only model, streams a weight file into it and freezes it; the model is freed on failure. */
async function loadModel<M extends Module>(
  source: ModelSource,
  file: string,
  model: M,
  load: (model: M, reader: SafetensorsReader) => Promise<LoadReport>,
): Promise<M> {
  try {
    const reader = await source.openSafetensors(file);
    try {
      await load(model, reader);
    } finally {
      await reader.close();
    }
    // frozen and in eval mode, as diffusers' from_pretrained leaves them for inference; a trainer
    // turns gradients back on for what it trains (or trains LoRA adapters, which have their own)
    return model.requiresGrad_(false).eval();
  } catch (error) {
    model.dispose();
    throw error;
  }
}

async function part<T>(location: string, name: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ModelFolderError(`Cannot load ${name} from model folder "${location}": ${message}`, { cause: error });
  }
}

async function loadTokenizer(source: ModelSource): Promise<CLIPTokenizer> {
  const [vocab, merges] = await Promise.all([source.readText("tokenizer/vocab.json"), source.readText("tokenizer/merges.txt")]);
  let modelMaxLength: number | undefined;
  if (await source.exists("tokenizer/tokenizer_config.json")) {
    const value = (await readJson(source, "tokenizer/tokenizer_config.json")).model_max_length;
    if (typeof value === "number" && Number.isInteger(value) && value > 0 && value < 1e6) modelMaxLength = value;
  }
  return CLIPTokenizer.fromStrings(vocab, merges, { modelMaxLength });
}

/** TAESD from a folder source, or from one safetensors file at a URL / path string. */
async function loadTaesd(
  taesd: ModelSource | string | URL,
  device: Device | undefined,
  sourceOf: (s: string | URL) => ModelSource,
): Promise<TAESD> {
  const options = { init: "meta" as const, device };
  const text = typeof taesd === "string" || taesd instanceof URL ? taesd.toString() : undefined;
  if (text !== undefined && /\.safetensors$/i.test(text)) {
    const cut = text.lastIndexOf("/") + 1;
    const folder = sourceOf(text.slice(0, cut) || "./");
    return await loadModel(folder, text.slice(cut), TAESD.fromConfig({}, options), (model, reader) => loadTaesdWeights(model, reader));
  }
  const source = text !== undefined ? sourceOf(taesd as string | URL) : (taesd as ModelSource);
  const sub = (await source.exists("vae/config.json")) ? "vae/" : "";
  const config = await readJson(source, `${sub}config.json`);
  return await loadModel(source, `${sub}diffusion_pytorch_model.safetensors`, TAESD.fromConfig(config, options), (model, reader) =>
    loadTaesdWeights(model, reader),
  );
}

/**
 * Loads tokenizer, text encoder, UNet, VAE, scheduler config (and optionally TAESD) from a
 * diffusers SD1.x folder behind `source`: a {@link ModelSource}, or the folder's URL. A missing
 * file throws `ModelFolderError` naming it; a weight file without a tensor the model needs throws
 * one naming the part and the key. `sourceOf` turns TAESD strings into sources (URLs by default;
 * the Node loader also takes paths).
 *
 * @example
 * ```ts
 * const pipe = await loadPipelineFromSource("https://example.com/models/stable-diffusion-v1-5/");
 * const { images } = await pipe.generate({ prompt: "a cat", seed: 1 });
 * ```
 */
export async function loadPipelineFromSource(
  source: ModelSource | string | URL,
  options: LoadPipelineOptions = {},
  sourceOf: (location: string | URL) => ModelSource = (location) => toModelSource(location, options),
): Promise<StableDiffusionPipeline> {
  const files = toModelSource(source, options);
  const where = files.location;
  let missing: string[];
  let pixelSpace: boolean;
  try {
    pixelSpace = await isPixelSpaceModel(files);
    missing = await missingModelFiles(files, options.variant);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ModelFolderError(`Cannot load a Stable Diffusion model from "${where}": ${message}`, { cause: error });
  }
  if (missing.length > 0) {
    const needed = requiredModelFiles(options.variant, { vae: !pixelSpace }).join(", ");
    throw new ModelFolderError(
      `Cannot load a Stable Diffusion model from "${where}": missing ${missing.join(", ")} (a diffusers folder needs ${needed})`,
    );
  }
  const progress = options.onProgress ?? (() => {});
  const { device } = options;
  const dtype = resolveModelDType(options.dtype, device ?? Device.default, "the Stable Diffusion model");
  const layer = { init: "meta" as const, device, dtype };
  const weights = weightFiles(options.variant);
  const schedulerConfig = await part(where, "scheduler/scheduler_config.json", () => readJson(files, "scheduler/scheduler_config.json"));
  progress("tokenizer");
  const tokenizer = await part(where, "the tokenizer", () => loadTokenizer(files));
  const loaded: Module[] = [];
  try {
    progress("text_encoder");
    const textEncoder = await part(where, "the text encoder", async () => {
      const model = CLIPTextModel.fromConfig(await readJson(files, "text_encoder/config.json"), layer);
      return await loadModel(files, weights.textEncoder, model, (m, reader) => loadClipWeights(m, reader, { strict: true }));
    });
    loaded.push(textEncoder);
    if (options.lowMemory) await offloadToHost(textEncoder);
    progress("unet");
    const unet = await part(where, "the UNet", async () => {
      const model = UNet2DConditionModel.fromConfig(await readJson(files, "unet/config.json"), layer);
      return await loadModel(files, weights.unet, model, (m, reader) => loadWeights(m, reader));
    });
    loaded.push(unet);
    let vae: AutoencoderKL | null = null;
    if (!pixelSpace) {
      progress("vae");
      vae = await part(where, "the VAE", async () => {
        const model = AutoencoderKL.fromConfig(await readJson(files, "vae/config.json"), layer);
        return await loadModel(files, weights.vae, model, (m, reader) => loadAutoencoderKLWeights(m, reader));
      });
      loaded.push(vae);
      if (options.lowMemory) await offloadToHost(vae);
    }
    let taesd: TAESD | undefined;
    if (options.taesd !== undefined) {
      progress("taesd");
      const taesdWhere =
        typeof options.taesd === "string" || options.taesd instanceof URL ? options.taesd.toString() : options.taesd.location;
      taesd = await part(taesdWhere, "TAESD", () => loadTaesd(options.taesd!, device, sourceOf));
    }
    const pipeline = new StableDiffusionPipeline({ tokenizer, textEncoder, unet, vae, schedulerConfig, taesd });
    if (options.lowMemory) await pipeline.enableLowMemory();
    return pipeline;
  } catch (error) {
    for (const model of loaded) model.dispose();
    throw error;
  }
}

/**
 * Loads a Stable Diffusion 1.x pipeline from a diffusers folder's URL (e.g. a Hugging Face
 * `…/resolve/main/` URL, or your own server) or any {@link ModelSource}; see
 * {@link loadPipelineFromSource}. In Node, `@spo/pipeline/node` exports a version that also takes
 * folder paths.
 *
 * @example
 * ```ts
 * const pipe = await loadStableDiffusionPipeline(new URL("/models/tiny-sd/", location.href));
 * const { images } = await pipe.generate({ prompt: "a (red:1.2) fox", seed: 7 });
 * ```
 */
export function loadStableDiffusionPipeline(
  source: ModelSource | string | URL,
  options: LoadPipelineOptions = {},
): Promise<StableDiffusionPipeline> {
  return loadPipelineFromSource(source, options);
}
