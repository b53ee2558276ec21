import { existsSync, statSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CLIPTokenizer, DEFAULT_CLIP_ASSETS_URL } from "@spo/clip/node";
import { readSafetensorsFile } from "@spo/safetensors/node";
import { openWeights } from "@spo/torch-checkpoint/node";
import { type Device, DTypeError, type DType, type WeightSource } from "@spo/wgpu-tensor";
import { VIT_H_14_CONFIG } from "../model/spm_config.ts";
import { StepPreferenceModel } from "../model/step_preference_model.ts";
import { initStepPreferenceModelFromClip, loadStepPreferenceWeights } from "./spm_weights.ts";

/** A tensor source that may hold a file open. */
export type ClosableWeightSource = WeightSource & { close?(): Promise<void> };

/** Options of `loadStepPreferenceModel`. */
export interface SpmFileOptions {
  device?: Device;
  /** Parameter dtype: f32 (default) or f16 (needs the device's `shader-f16`). */
  dtype?: DType;
  /** The transformers CLIPConfig; default: the folder's (or the file's folder's) config.json, else ViT-H/14's. */
  config?: Record<string, unknown>;
  /** False builds the step-agnostic scorer (plain CLIP / PickScore). Default true. */
  isTimeConditioned?: boolean;
  /** The file is a plain CLIP / PickScore checkpoint: load it and apply SPO's adaLN init. */
  initFromClip?: boolean;
  /** Seed of the adaLN init's t_embedder weights (with `initFromClip`). */
  seed?: number;
  strict?: boolean;
  onProgress?: (loaded: number, total: number, name: string) => void;
  /**
   * Opens the weights file instead of the built-in readers (safetensors, and PyTorch `.bin` / `.pt` /
   * `.ckpt` through `@spo/torch-checkpoint`, which never runs pickled code): any reader with the
   * safetensors reader interface (names, has, info, float32).
   */
  openWeights?: (path: string) => Promise<ClosableWeightSource>;
}

type Json = Record<string, unknown>;

const WEIGHT_NAMES = ["model.safetensors", "pytorch_model.bin"];

/** The weights file of a folder: model.safetensors, else the only *.safetensors, else pytorch_model.bin / the only *.bin. */
async function weightsFileOf(folder: string): Promise<string> {
  for (const name of WEIGHT_NAMES) if (existsSync(join(folder, name))) return join(folder, name);
  const files = await readdir(folder);
  for (const ext of [".safetensors", ".bin"]) {
    const matching = files.filter((f) => f.endsWith(ext));
    if (matching.length === 1) return join(folder, matching[0]);
  }
  throw new Error(
    `Cannot load a step-aware preference model from "${folder}": it holds no model.safetensors, pytorch_model.bin or single weights file`,
  );
}

async function configFor(folder: string, options: SpmFileOptions): Promise<Json> {
  if (options.config) return options.config;
  const path = join(folder, "config.json");
  return existsSync(path) ? (JSON.parse(await readFile(path, "utf8")) as Json) : { ...VIT_H_14_CONFIG };
}

async function openSource(file: string, options: SpmFileOptions): Promise<ClosableWeightSource> {
  if (options.openWeights) return await options.openWeights(file);
  if (extname(file) === ".safetensors") return await readSafetensorsFile(file);
  // PyTorch checkpoints (the published SPM is a .bin), told apart from safetensors by their bytes
  return await openWeights(file);
}

/**
 * A step-aware preference model from disk: a Hugging Face folder (config.json + model.safetensors or
 * pytorch_model.bin), or a single weights file (the published `sd-v1-5_step-aware_preference_model.bin`
 * or a safetensors conversion of it, keys under `model.`), streamed tensor by tensor after a strict
 * header check. PyTorch files are read by `@spo/torch-checkpoint` (allow-listed pickle, no code run). With `initFromClip` the file is
 * a plain CLIP / PickScore checkpoint and the time conditioning gets SPO's init.
 *
 * @example
 * ```ts
 * const model = await loadStepPreferenceModel("/models/sd-v1-5_step-aware_preference_model.safetensors");
 * const pickScoreStart = await loadStepPreferenceModel("/models/PickScore_v1", { initFromClip: true });
 * ```
 */
export async function loadStepPreferenceModel(path: string | URL, options: SpmFileOptions = {}): Promise<StepPreferenceModel> {
  const resolved = typeof path === "string" ? path : fileURLToPath(path);
  const isFolder = statSync(resolved).isDirectory();
  const folder = isFolder ? resolved : dirname(resolved);
  const file = isFolder ? await weightsFileOf(resolved) : resolved;
  const dtype = options.dtype ?? "f32";
  if (dtype === "f16" && options.device && !options.device.hasF16) {
    throw new DTypeError("loadStepPreferenceModel", [dtype], "Cannot keep the weights in f16: the device has no shader-f16 feature");
  }
  const model = StepPreferenceModel.fromConfig(await configFor(folder, options), {
    init: "meta",
    device: options.device,
    dtype,
    isTimeConditioned: options.isTimeConditioned,
  });
  const source = await openSource(file, options);
  try {
    const load = { strict: options.strict, onProgress: options.onProgress };
    if (options.initFromClip) await initStepPreferenceModelFromClip(model, source, { ...load, seed: options.seed });
    else await loadStepPreferenceWeights(model, source, load);
    return model;
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    await source.close?.();
  }
}

/**
 * The tokenizer of a preference model: the folder's own files when it has them (`vocab.json`,
 * `merges.txt`, the pad token from `special_tokens_map.json` / `tokenizer_config.json`), else the CLIP
 * vocabulary shipped with `@spo/clip` with OpenCLIP ViT-H/14's settings (pad `"!"`, id 0), which is
 * the tokenizer SPO's preference models use.
 *
 * @example
 * ```ts
 * const tokenizer = await loadSpmTokenizer();
 * tokenizer.encode("a cat").slice(0, 5); // [49406, 320, 2368, 49407, 0]
 * ```
 */
export async function loadSpmTokenizer(folder?: string | URL): Promise<CLIPTokenizer> {
  if (folder !== undefined) {
    const path = typeof folder === "string" ? folder : fileURLToPath(folder);
    if (existsSync(join(path, "vocab.json")) || existsSync(join(path, "tokenizer", "vocab.json")))
      return await CLIPTokenizer.fromFolder(path);
  }
  return await CLIPTokenizer.fromFolder(DEFAULT_CLIP_ASSETS_URL, { padToken: "!" });
}
