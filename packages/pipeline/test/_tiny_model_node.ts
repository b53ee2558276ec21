/**
 * Writes a tiny random Stable Diffusion model as a diffusers folder (the real CLIP tokenizer files,
 * a 2-layer text encoder of width 16, a 2-level UNet, a 3-level VAE with scale factor 4) for the
 * end-to-end tests. Weights are the modules' default random init, read back with `stateDict`.
 */

import { copyFile, mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CLIPTextModel } from "@spo/clip";
import { SD15_SCHEDULER_CONFIG, UNet2DConditionModel } from "@spo/diffusion-unet";
import { writeSafetensorsFile } from "@spo/safetensors/node";
import { AutoencoderKL, TAESD } from "@spo/vae";
import type { Module } from "@spo/wgpu-tensor";

export const TINY_TEXT_CONFIG = {
  architectures: ["CLIPTextModel"],
  model_type: "clip_text_model",
  vocab_size: 49408,
  hidden_size: 16,
  intermediate_size: 32,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  max_position_embeddings: 77,
  hidden_act: "quick_gelu",
  layer_norm_eps: 1e-5,
  projection_dim: 16,
  bos_token_id: 49406,
  eos_token_id: 49407,
  pad_token_id: 1,
};

export const TINY_UNET_CONFIG = {
  _class_name: "UNet2DConditionModel",
  sample_size: 8,
  in_channels: 4,
  out_channels: 4,
  down_block_types: ["CrossAttnDownBlock2D", "DownBlock2D"],
  mid_block_type: "UNetMidBlock2DCrossAttn",
  up_block_types: ["UpBlock2D", "CrossAttnUpBlock2D"],
  block_out_channels: [32, 64],
  layers_per_block: 1,
  norm_num_groups: 32,
  cross_attention_dim: 16,
  attention_head_dim: 8,
};

export const TINY_VAE_CONFIG = {
  _class_name: "AutoencoderKL",
  in_channels: 3,
  out_channels: 3,
  down_block_types: ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
  up_block_types: ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"],
  block_out_channels: [8, 16, 16],
  layers_per_block: 1,
  latent_channels: 4,
  norm_num_groups: 8,
  sample_size: 32,
  scaling_factor: 0.18215,
};

const TOKENIZER_ASSETS = fileURLToPath(new URL("../../clip/assets/clip/", import.meta.url));

async function writeModule(
  module: Module,
  file: string,
  skip: (name: string) => boolean = () => false,
  replace: Record<string, Float32Array> = {},
): Promise<void> {
  const tensors: Record<string, { dtype: "F32"; shape: number[]; data: Float32Array }> = {};
  for (const [name, value] of module.stateDict()) {
    if (skip(name)) continue;
    tensors[name] = { dtype: "F32", shape: [...value.shape], data: replace[name] ?? ((await value.toArray()) as Float32Array) };
  }
  await writeSafetensorsFile(file, tensors);
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await writeFile(file, JSON.stringify(value, null, 2));
}

/**
 * Writes the tiny model into a new temp folder and returns its path. `dropUNetKey` leaves one UNet
 * tensor out; `taesd` adds a random full-size TAESD as a diffusers AutoencoderTiny folder `taesd/`;
 * `vaeConfig` replaces the VAE's config.
 */
export async function writeTinyModel(
  options: { dropUNetKey?: string; taesd?: boolean; vaeConfig?: Record<string, unknown> } = {},
): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "spo-tiny-sd-"));
  for (const sub of ["tokenizer", "text_encoder", "unet", "vae", "scheduler"]) await mkdir(join(root, sub));
  await copyFile(join(TOKENIZER_ASSETS, "vocab.json"), join(root, "tokenizer", "vocab.json"));
  await copyFile(join(TOKENIZER_ASSETS, "merges.txt"), join(root, "tokenizer", "merges.txt"));
  await writeJson(join(root, "model_index.json"), { _class_name: "StableDiffusionPipeline" });
  await writeJson(join(root, "scheduler", "scheduler_config.json"), SD15_SCHEDULER_CONFIG);

  const text = CLIPTextModel.fromConfig(TINY_TEXT_CONFIG);
  await writeJson(join(root, "text_encoder", "config.json"), TINY_TEXT_CONFIG);
  // A trained CLIP's final LayerNorm has a non-zero bias; with the init's zero bias the mean of the
  // output is ~0, and A1111's emphasis (z·w rescaled by mean(z)/mean(z·w)) would divide rounding noise.
  const finalBias = Float32Array.from({ length: TINY_TEXT_CONFIG.hidden_size }, (_, i) => 0.3 + 0.1 * Math.sin(i));
  await writeModule(text, join(root, "text_encoder", "model.safetensors"), () => false, { "text_model.final_layer_norm.bias": finalBias });
  text.dispose();

  const unet = UNet2DConditionModel.fromConfig(TINY_UNET_CONFIG);
  await writeJson(join(root, "unet", "config.json"), TINY_UNET_CONFIG);
  await writeModule(unet, join(root, "unet", "diffusion_pytorch_model.safetensors"), (name) => name === options.dropUNetKey);
  unet.dispose();

  const vaeConfig = options.vaeConfig ?? TINY_VAE_CONFIG;
  const vae = AutoencoderKL.fromConfig(vaeConfig);
  await writeJson(join(root, "vae", "config.json"), vaeConfig);
  await writeModule(vae, join(root, "vae", "diffusion_pytorch_model.safetensors"));
  vae.dispose();

  if (options.taesd) {
    await mkdir(join(root, "taesd"));
    const taesd = TAESD.fromConfig({});
    await writeJson(join(root, "taesd", "config.json"), { _class_name: "AutoencoderTiny" });
    await writeModule(taesd, join(root, "taesd", "diffusion_pytorch_model.safetensors"));
    taesd.dispose();
  }
  return root;
}
