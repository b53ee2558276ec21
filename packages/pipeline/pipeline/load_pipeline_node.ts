/**
 * Loading a `StableDiffusionPipeline` from a diffusers model folder on disk, checking first that
 * every file is there so a missing one is named before any weight is read.
 *
 * @module
 */

import { access, readFile } from "node:fs/promises";
import { join } from "node:path";
import { CLIPTokenizer, loadCLIPTextModel } from "@spo/clip/node";
import { loadUNetFromFolder } from "@spo/diffusion-unet/node";
import { loadAutoencoderKL, loadTAESD } from "@spo/vae/node";
import type { Device } from "@spo/wgpu-tensor";
import { StableDiffusionPipeline } from "./stable_diffusion_pipeline.ts";

/** Thrown when a model folder lacks a file or a weight file lacks a tensor; the message names which. */
export class ModelFolderError extends Error {
  override name = "ModelFolderError";
}

/** The files a diffusers SD1.x folder must hold (relative paths). */
export const REQUIRED_MODEL_FILES: readonly string[] = [
  "tokenizer/vocab.json",
  "tokenizer/merges.txt",
  "text_encoder/config.json",
  "text_encoder/model.safetensors",
  "unet/config.json",
  "unet/diffusion_pytorch_model.safetensors",
  "vae/config.json",
  "vae/diffusion_pytorch_model.safetensors",
  "scheduler/scheduler_config.json",
];

/** Options of {@link loadStableDiffusionPipeline}. */
export interface LoadPipelineOptions {
  device?: Device;
  /** A TAESD folder or safetensors file for live previews. */
  taesd?: string;
  /** Called as each part starts loading ("tokenizer", "text_encoder", "unet", "vae", "taesd"). */
  onProgress?: (part: string) => void;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The files of {@link REQUIRED_MODEL_FILES} missing from `folder` (empty when it is complete).
 *
 * @example
 * ```ts
 * await missingModelFiles("/models/sd15"); // [] or e.g. ["unet/diffusion_pytorch_model.safetensors"]
 * ```
 */
export async function missingModelFiles(folder: string): Promise<string[]> {
  const missing: string[] = [];
  for (const file of REQUIRED_MODEL_FILES) if (!(await exists(join(folder, file)))) missing.push(file);
  return missing;
}

async function part<T>(folder: string, name: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ModelFolderError(`Cannot load ${name} from model folder "${folder}": ${message}`, { cause: error });
  }
}

/**
 * Loads tokenizer, text encoder, UNet, VAE and scheduler config from a diffusers SD1.x folder
 * (only safetensors weights). A missing folder or file throws `ModelFolderError` naming it; a
 * weight file without a tensor the model needs throws one naming the part and the key.
 *
 * @example
 * ```ts
 * const pipe = await loadStableDiffusionPipeline("/models/stable-diffusion-v1-5");
 * const { images } = await pipe.generate({ prompt: "a cat", seed: 1 });
 * ```
 */
export async function loadStableDiffusionPipeline(folder: string, options: LoadPipelineOptions = {}): Promise<StableDiffusionPipeline> {
  if (!(await exists(folder))) throw new ModelFolderError(`Cannot load a Stable Diffusion model from "${folder}": the folder does not exist`);
  const missing = await missingModelFiles(folder);
  if (missing.length > 0) {
    throw new ModelFolderError(`Cannot load a Stable Diffusion model from "${folder}": missing ${missing.join(", ")} (a diffusers folder needs ${REQUIRED_MODEL_FILES.join(", ")})`);
  }
  const progress = options.onProgress ?? (() => {});
  const { device } = options;
  const schedulerConfig = await part(folder, "scheduler/scheduler_config.json", async () => JSON.parse(await readFile(join(folder, "scheduler", "scheduler_config.json"), "utf8")) as Record<string, unknown>);
  progress("tokenizer");
  const tokenizer = await part(folder, "the tokenizer", () => CLIPTokenizer.fromFolder(folder));
  progress("text_encoder");
  const textEncoder = await part(folder, "the text encoder", () => loadCLIPTextModel(folder, { device, strict: true }));
  try {
    progress("unet");
    const unet = await part(folder, "the UNet", () => loadUNetFromFolder(folder, { device }));
    try {
      progress("vae");
      const vae = await part(folder, "the VAE", () => loadAutoencoderKL(folder, { device }));
      let taesd;
      if (options.taesd) {
        progress("taesd");
        taesd = await part(options.taesd, "TAESD", () => loadTAESD(options.taesd!, { device }));
      }
      return new StableDiffusionPipeline({ tokenizer, textEncoder, unet, vae, schedulerConfig, taesd });
    } catch (error) {
      unet.dispose();
      throw error;
    }
  } catch (error) {
    textEncoder.dispose();
    throw error;
  }
}
