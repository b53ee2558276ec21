import { stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { SafetensorsReader } from "@spo/safetensors";
import { openWeights } from "@spo/torch-checkpoint/node";
import { Device, type LayerOptions, type LoadReport, type ModelDType, type Module, resolveModelDType } from "@spo/wgpu-tensor";
import { loadPretrainedComponent } from "@spo/wgpu-tensor/node";
import { AutoencoderKL } from "../autoencoder_kl/autoencoder_kl.ts";
import { SD15_VAE_CONFIG } from "../autoencoder_kl/vae_config.ts";
import { TAESD, TAESDDecoder } from "../taesd/taesd.ts";
import { taesdConfigFromJson } from "../taesd/taesd_config.ts";
import { loadAutoencoderKLWeights, loadTaesdWeights, type VaeLoadOptions } from "./vae_checkpoint.ts";

/** Options of the Node loaders. */
export interface VaeFileOptions extends Omit<VaeLoadOptions, "prefix"> {
  device?: Device;
  /**
   * Storage dtype of weights and activations (default f32). "f16" needs `shader-f16`: without it the
   * model is f32 and one line says so.
   */
  dtype?: ModelDType;
  /** Weight file variant: `"fp16"` reads `diffusion_pytorch_model.fp16.safetensors`. */
  variant?: string;
}

type Json = Record<string, unknown>;

function asPath(path: string | URL): string {
  return typeof path === "string" ? path : fileURLToPath(path);
}

function layerOptions(options: VaeFileOptions): LayerOptions {
  return { init: "meta", device: options.device, dtype: resolveModelDType(options.dtype, options.device ?? Device.default, "the VAE") };
}

/** Opens `file`, loads it into `model` with `load`, closes it; disposes the model on failure. */
async function loadFile<M extends Module>(
  model: M,
  file: string,
  load: (model: M, reader: SafetensorsReader) => Promise<LoadReport>,
): Promise<M> {
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

/** `diffusion_pytorch_model[.variant].safetensors`, else the `.bin` of older folders. */
function weightFiles(options: VaeFileOptions): string[] {
  const stem = options.variant ? `diffusion_pytorch_model.${options.variant}` : "diffusion_pytorch_model";
  return [`${stem}.safetensors`, `${stem}.bin`];
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
  const { model } = await loadPretrainedComponent(path, {
    what: "an AutoencoderKL",
    subfolder: "vae",
    weightFiles: weightFiles(options),
    build: (config) => AutoencoderKL.fromConfig(config, layerOptions(options)),
    open: openWeights,
    load: (vae, reader) => loadAutoencoderKLWeights(vae, reader, options),
  });
  return model;
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
export async function loadAutoencoderKLFromSingleFile(
  file: string | URL,
  config: Json = SD15_VAE_CONFIG,
  options: VaeFileOptions = {},
): Promise<AutoencoderKL> {
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
    const { model } = await loadPretrainedComponent(target, {
      what: "TAESD",
      subfolder: "vae",
      weightFiles: weightFiles(options),
      build: (config) => TAESD.fromConfig(config, layerOptions(options)),
      open: openWeights,
      load: (taesd, reader) => loadTaesdWeights(taesd, reader, options),
    });
    return model;
  }
  return loadFile(TAESD.fromConfig(options.config ?? {}, layerOptions(options)), target, (model, reader) =>
    loadTaesdWeights(model, reader, options),
  );
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
