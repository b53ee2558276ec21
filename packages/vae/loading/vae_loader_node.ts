import { access, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { SafetensorsReader } from "@spo/safetensors";
import { openWeights } from "@spo/torch-checkpoint/node";
import type { Device, DType, LayerOptions, LoadReport, Module } from "@spo/wgpu-tensor";
import { AutoencoderKL } from "../autoencoder_kl/autoencoder_kl.ts";
import { SD15_VAE_CONFIG } from "../autoencoder_kl/vae_config.ts";
import { TAESD, TAESDDecoder } from "../taesd/taesd.ts";
import { taesdConfigFromJson } from "../taesd/taesd_config.ts";
import { loadAutoencoderKLWeights, loadTaesdWeights, type VaeLoadOptions } from "./vae_checkpoint.ts";

/** Options of the Node loaders. */
export interface VaeFileOptions extends Omit<VaeLoadOptions, "prefix"> {
  device?: Device;
  /** Parameter dtype (default f32; f16 needs `shader-f16`). */
  dtype?: DType;
  /** Weight file variant: `"fp16"` reads `diffusion_pytorch_model.fp16.safetensors`. */
  variant?: string;
}

type Json = Record<string, unknown>;

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

function asPath(path: string | URL): string {
  return typeof path === "string" ? path : fileURLToPath(path);
}

function layerOptions(options: VaeFileOptions): LayerOptions {
  return { init: "meta", device: options.device, dtype: options.dtype };
}

/** Opens `file`, loads it into `model` with `load`, closes it; disposes the model on failure. */
async function loadFile<M extends Module>(model: M, file: string, load: (model: M, reader: SafetensorsReader) => Promise<LoadReport>): Promise<M> {
  // safetensors or a PyTorch checkpoint (.bin/.ckpt/.pt, its state_dict), told by the file's first bytes
  const reader = await openWeights(file);
  try {
    await load(model, reader);
    return model;
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    await reader.close();
  }
}

/** `<root>/<subfolder>` when it holds config.json, else `root`; throws when neither has one. */
async function diffusersFolder(path: string | URL, subfolder: string, what: string): Promise<{ folder: string; config: Json }> {
  const root = asPath(path);
  const nested = join(root, subfolder);
  const folder = (await exists(join(nested, "config.json"))) ? nested : root;
  const configPath = join(folder, "config.json");
  if (!(await exists(configPath))) throw new Error(`Cannot load ${what} from "${root}": neither ${subfolder}/config.json nor config.json exists there`);
  return { folder, config: JSON.parse(await readFile(configPath, "utf8")) as Json };
}

async function weightsFile(folder: string, options: VaeFileOptions, what: string): Promise<string> {
  const stem = options.variant ? `diffusion_pytorch_model.${options.variant}` : "diffusion_pytorch_model";
  for (const name of [`${stem}.safetensors`, `${stem}.bin`]) {
    if (await exists(join(folder, name))) return join(folder, name);
  }
  throw new Error(`Cannot load ${what} from "${folder}": ${stem}.safetensors does not exist (nor ${stem}.bin)`);
}

/**
 * Stable Diffusion's VAE from a diffusers model folder (`vae/config.json` and
 * `vae/diffusion_pytorch_model.safetensors`) or a VAE folder, streamed tensor by tensor.
 *
 * @example
 * ```ts
 * const vae = await loadAutoencoderKL("/models/stable-diffusion-v1-5");
 * const image = vae.decode(div(latents, vae.config.scalingFactor));
 * ```
 */
export async function loadAutoencoderKL(path: string | URL, options: VaeFileOptions = {}): Promise<AutoencoderKL> {
  const { folder, config } = await diffusersFolder(path, "vae", "an AutoencoderKL");
  const file = await weightsFile(folder, options, "an AutoencoderKL");
  const vae = AutoencoderKL.fromConfig(config, layerOptions(options));
  return loadFile(vae, file, (model, reader) => loadAutoencoderKLWeights(model, reader, options));
}

/**
 * The VAE inside a single-file SD checkpoint (`first_stage_model.*`, A1111/Civitai `.ckpt` or
 * `.safetensors`) or a standalone VAE file (LDM or diffusers names), with SD1.5's VAE config
 * unless another diffusers config object is given.
 *
 * @example
 * ```ts
 * const vae = await loadAutoencoderKLFromSingleFile("/models/v1-5-pruned-emaonly.safetensors");
 * ```
 */
export async function loadAutoencoderKLFromSingleFile(file: string | URL, config: Json = SD15_VAE_CONFIG, options: VaeFileOptions = {}): Promise<AutoencoderKL> {
  const vae = AutoencoderKL.fromConfig(config, layerOptions(options));
  return loadFile(vae, asPath(file), (model, reader) => loadAutoencoderKLWeights(model, reader, options));
}

/**
 * TAESD from a diffusers `AutoencoderTiny` folder (`madebyollin/taesd`: config.json and
 * diffusion_pytorch_model.safetensors) or from one safetensors file holding `encoder.*` and
 * `decoder.*` in taesd.py's or diffusers' names (4 latent channels unless `config` says otherwise).
 *
 * @example
 * ```ts
 * const taesd = await loadTAESD("/models/taesd");
 * const preview = taesd.decode(latents); // RGB in about [0, 1]
 * ```
 */
export async function loadTAESD(path: string | URL, options: VaeFileOptions & { config?: Json } = {}): Promise<TAESD> {
  const target = asPath(path);
  if ((await stat(target)).isDirectory()) {
    const { folder, config } = await diffusersFolder(target, "vae", "TAESD");
    const file = await weightsFile(folder, options, "TAESD");
    return loadFile(TAESD.fromConfig(config, layerOptions(options)), file, (model, reader) => loadTaesdWeights(model, reader, options));
  }
  return loadFile(TAESD.fromConfig(options.config ?? {}, layerOptions(options)), target, (model, reader) => loadTaesdWeights(model, reader, options));
}

/**
 * TAESD's decoder alone (live previews) from a safetensors file: `taesd_decoder` keys, or a
 * combined / diffusers file's decoder part.
 *
 * @example
 * ```ts
 * const decoder = await loadTAESDDecoder("/models/taesd_decoder.safetensors");
 * ```
 */
export async function loadTAESDDecoder(file: string | URL, options: VaeFileOptions & { config?: Json } = {}): Promise<TAESDDecoder> {
  const decoder = new TAESDDecoder(taesdConfigFromJson(options.config ?? {}), layerOptions(options));
  return loadFile(decoder, asPath(file), (model, reader) => loadTaesdWeights(model, reader, options));
}
