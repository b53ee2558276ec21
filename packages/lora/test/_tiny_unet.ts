import { readFileSync } from "node:fs";
import { UNet2DConditionModel } from "@spo/diffusion-unet";
import type { LayerOptions } from "@spo/wgpu-tensor";

/** The config of the oracle `unet` cases: 32/64 channels, one cross-attention down and up block. */
export const ORACLE_UNET_CONFIG: Record<string, unknown> = JSON.parse(
  readFileSync(new URL("./fixtures/oracle/unet_lora.json", import.meta.url), "utf8"),
).config;

/** A smaller UNet for gradient tests: 8/16 channels, 4 groups, 2 heads, one layer per block. */
export const TINY_UNET_CONFIG: Record<string, unknown> = {
  ...ORACLE_UNET_CONFIG,
  sample_size: 8,
  block_out_channels: [8, 16],
  layers_per_block: 1,
  norm_num_groups: 4,
  cross_attention_dim: 8,
  attention_head_dim: 2,
};

export function oracleUNet(options: LayerOptions = {}): UNet2DConditionModel {
  return UNet2DConditionModel.fromConfig(ORACLE_UNET_CONFIG, options);
}
