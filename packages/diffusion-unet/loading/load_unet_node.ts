import { openWeights } from "@spo/torch-checkpoint/node";
import { Device, type LayerOptions, type ModelDType, resolveModelDType } from "@spo/wgpu-tensor";
import { unetConfigFromDiffusers } from "../unet/config.ts";
import { UNet2DConditionModel } from "../unet/unet_2d_condition.ts";
import { ldmKeyMap, LDM_UNET_PREFIX } from "./ldm_key_map.ts";
import { type LoadWeightsOptions, loadWeights } from "@spo/wgpu-tensor";
import { loadPretrainedComponent } from "@spo/wgpu-tensor/node";

export interface LoadUNetOptions extends LoadWeightsOptions, Pick<LayerOptions, "device"> {
  /** Weights variant: "fp16" reads `diffusion_pytorch_model.fp16.safetensors` (or `.fp16.bin`), converted to `dtype`. */
  variant?: "fp16";
  /**
   * Storage dtype of weights and activations: "f16" halves the memory on devices with
   * `shader-f16` (weights converted from f16, bf16 or f32 files); without it, f32 with a one-line notice.
   */
  dtype?: ModelDType;
}

/**
 * Loads a UNet from a diffusers model folder (`<folder>/unet/` or the unet folder itself):
 * `config.json` plus `diffusion_pytorch_model[.fp16].safetensors` (or, in older folders,
 * `diffusion_pytorch_model[.fp16].bin`, read without running its pickle), streamed tensor by tensor.
 * @example
 * ```ts
 * const unet = await loadUNetFromFolder("./stable-diffusion-v1-5");
 * ```
 */
export async function loadUNetFromFolder(folder: string, options: LoadUNetOptions = {}): Promise<UNet2DConditionModel> {
  const dtype = resolveModelDType(options.dtype, options.device ?? Device.default, "a UNet");
  const stem = options.variant === "fp16" ? "diffusion_pytorch_model.fp16" : "diffusion_pytorch_model";
  const { model } = await loadPretrainedComponent(folder, {
    what: "a UNet",
    subfolder: "unet",
    weightFiles: [`${stem}.safetensors`, `${stem}.bin`],
    build: (config) => UNet2DConditionModel.fromConfig(config, { init: "meta", device: options.device, dtype }),
    open: openWeights,
    load: (unet, reader) => loadWeights(unet, reader, options),
  });
  return model;
}

/**
 * Loads the UNet of an original single-file checkpoint (`model.diffusion_model.*` keys, e.g.
 * v1-5-pruned-emaonly.safetensors, or the A1111 `.ckpt`, whose `state_dict` is read without
 * running its pickle); VAE, text encoder and EMA weights in the file are ignored.
 * `config` defaults to SD1.5's.
 */
export async function loadUNetFromSingleFile(
  path: string,
  config: Record<string, unknown>,
  options: LoadUNetOptions = {},
): Promise<UNet2DConditionModel> {
  const dtype = resolveModelDType(options.dtype, options.device ?? Device.default, "a UNet");
  const unet = UNet2DConditionModel.fromConfig(config, { init: "meta", device: options.device, dtype });
  const names = [...unet.stateDict().keys()];
  const map = ldmKeyMap(names, unetConfigFromDiffusers(config));
  await using reader = await openWeights(path);
  await loadWeights(unet, reader, {
    ...options,
    fileNameOf: (name) => LDM_UNET_PREFIX + map.get(name)!,
    isRelevant: (fileName) => fileName.startsWith(LDM_UNET_PREFIX),
  });
  return unet;
}
