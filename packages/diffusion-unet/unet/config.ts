import { UnsupportedConfigError } from "@spo/wgpu-tensor";

/** The down/up block types this UNet supports (diffusers names). */
export type DownBlockType = "CrossAttnDownBlock2D" | "DownBlock2D";
export type UpBlockType = "CrossAttnUpBlock2D" | "UpBlock2D";

/** A UNet2DConditionModel configuration, read once from diffusers' `config.json`. */
export interface UNetConfig {
  inChannels: number;
  outChannels: number;
  sampleSize: number;
  centerInputSample: boolean;
  flipSinToCos: boolean;
  freqShift: number;
  downBlockTypes: DownBlockType[];
  upBlockTypes: UpBlockType[];
  blockOutChannels: number[];
  layersPerBlock: number;
  downsamplePadding: number;
  midBlockScaleFactor: number;
  normNumGroups: number;
  normEps: number;
  crossAttentionDim: number;
  /** Attention heads per down block (diffusers' `attention_head_dim` is really the head count in SD1.x). */
  headsPerBlock: number[];
  transformerLayersPerBlock: number;
  useLinearProjection: boolean;
  upcastAttention: boolean;
}

/** The package's one error for configurations it does not implement; the message names the field. */
function unsupported(message: string): UnsupportedConfigError {
  return new UnsupportedConfigError(message, { component: "UNet2DConditionModel" });
}

type Json = Record<string, unknown>;

/** Values a field may hold and still mean "the SD1.x behaviour"; anything else is rejected by name. */
const MUST_EQUAL: Record<string, readonly unknown[]> = {
  mid_block_type: ["UNetMidBlock2DCrossAttn", undefined],
  only_cross_attention: [false, undefined],
  dual_cross_attention: [false, undefined],
  class_embed_type: [null, undefined],
  addition_embed_type: [null, undefined],
  encoder_hid_dim: [null, undefined],
  time_embedding_type: ["positional", undefined],
  time_embedding_dim: [null, undefined],
  time_embedding_act_fn: [null, undefined],
  timestep_post_act: [null, undefined],
  time_cond_proj_dim: [null, undefined],
  resnet_time_scale_shift: ["default", undefined],
  resnet_skip_time_act: [false, undefined],
  resnet_out_scale_factor: [1, 1.0, undefined],
  act_fn: ["silu", undefined],
  conv_in_kernel: [3, undefined],
  conv_out_kernel: [3, undefined],
  attention_type: ["default", undefined],
  num_class_embeds: [null, undefined],
  cross_attention_norm: [null, undefined],
  reverse_transformer_layers_per_block: [null, undefined],
  mid_block_only_cross_attention: [null, undefined, false],
  class_embeddings_concat: [false, undefined],
};

/**
 * Reads a diffusers `unet/config.json` object (snake_case) into a typed config, checking every
 * field this implementation depends on and rejecting, by name, the ones it does not support.
 *
 * @example
 * ```ts
 * const config = unetConfigFromDiffusers(JSON.parse(await readFile("unet/config.json", "utf8")));
 * config.headsPerBlock; // [8, 8, 8, 8] for SD1.5
 * ```
 */
export function unetConfigFromDiffusers(json: Json): UNetConfig {
  for (const [field, allowed] of Object.entries(MUST_EQUAL)) {
    if (!allowed.includes(json[field])) {
      throw unsupported(
        `Cannot build UNet2DConditionModel: ${field} = ${JSON.stringify(json[field])} is not supported (supported: ${allowed
          .filter((v) => v !== undefined)
          .map((v) => JSON.stringify(v))
          .join(", ")})`,
      );
    }
  }
  const blockOutChannels = numberList(json, "block_out_channels", [320, 640, 1280, 1280]);
  const downBlockTypes = stringList(json, "down_block_types", [
    "CrossAttnDownBlock2D",
    "CrossAttnDownBlock2D",
    "CrossAttnDownBlock2D",
    "DownBlock2D",
  ]);
  const upBlockTypes = stringList(json, "up_block_types", ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]);
  for (const type of downBlockTypes) {
    if (type !== "CrossAttnDownBlock2D" && type !== "DownBlock2D")
      throw unsupported(`Cannot build UNet2DConditionModel: down block type "${type}" is not supported`);
  }
  for (const type of upBlockTypes) {
    if (type !== "CrossAttnUpBlock2D" && type !== "UpBlock2D")
      throw unsupported(`Cannot build UNet2DConditionModel: up block type "${type}" is not supported`);
  }
  if (downBlockTypes.length !== blockOutChannels.length || upBlockTypes.length !== blockOutChannels.length) {
    throw unsupported(
      `Cannot build UNet2DConditionModel: ${blockOutChannels.length} block_out_channels need as many down and up block types (got ${downBlockTypes.length} and ${upBlockTypes.length})`,
    );
  }
  const crossAttentionDim = json.cross_attention_dim ?? 1280;
  if (typeof crossAttentionDim !== "number")
    throw unsupported("Cannot build UNet2DConditionModel: a per-block cross_attention_dim list is not supported");
  const transformerLayers = json.transformer_layers_per_block ?? 1;
  if (typeof transformerLayers !== "number")
    throw unsupported("Cannot build UNet2DConditionModel: a per-block transformer_layers_per_block list is not supported");

  // diffusers: num_attention_heads = num_attention_heads or attention_head_dim, and in SD1.x configs
  // attention_head_dim is that head count (the field name is a historical mistake)
  const heads = json.num_attention_heads ?? json.attention_head_dim ?? 8;
  const headsPerBlock = typeof heads === "number" ? blockOutChannels.map(() => heads) : (heads as number[]);
  if (headsPerBlock.length !== blockOutChannels.length)
    throw unsupported("Cannot build UNet2DConditionModel: attention_head_dim list length must match block_out_channels");

  const layersPerBlock = json.layers_per_block ?? 2;
  if (typeof layersPerBlock !== "number")
    throw unsupported("Cannot build UNet2DConditionModel: a per-block layers_per_block list is not supported");

  return {
    inChannels: num(json, "in_channels", 4),
    outChannels: num(json, "out_channels", 4),
    sampleSize: num(json, "sample_size", 64),
    centerInputSample: Boolean(json.center_input_sample ?? false),
    flipSinToCos: Boolean(json.flip_sin_to_cos ?? true),
    freqShift: num(json, "freq_shift", 0),
    downBlockTypes: downBlockTypes as DownBlockType[],
    upBlockTypes: upBlockTypes as UpBlockType[],
    blockOutChannels,
    layersPerBlock,
    downsamplePadding: num(json, "downsample_padding", 1),
    midBlockScaleFactor: num(json, "mid_block_scale_factor", 1),
    normNumGroups: num(json, "norm_num_groups", 32),
    normEps: num(json, "norm_eps", 1e-5),
    crossAttentionDim,
    headsPerBlock,
    transformerLayersPerBlock: transformerLayers,
    useLinearProjection: Boolean(json.use_linear_projection ?? false),
    upcastAttention: Boolean(json.upcast_attention ?? false),
  };
}

/** The SD1.5 UNet configuration (runwayml/stable-diffusion-v1-5 `unet/config.json`). */
export const SD15_UNET_CONFIG: Json = {
  in_channels: 4,
  out_channels: 4,
  sample_size: 64,
  center_input_sample: false,
  flip_sin_to_cos: true,
  freq_shift: 0,
  down_block_types: ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
  mid_block_type: "UNetMidBlock2DCrossAttn",
  up_block_types: ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
  block_out_channels: [320, 640, 1280, 1280],
  layers_per_block: 2,
  downsample_padding: 1,
  mid_block_scale_factor: 1,
  act_fn: "silu",
  norm_num_groups: 32,
  norm_eps: 1e-5,
  cross_attention_dim: 768,
  attention_head_dim: 8,
  use_linear_projection: false,
  upcast_attention: false,
};

function num(json: Json, field: string, fallback: number): number {
  const value = json[field] ?? fallback;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw unsupported(`Cannot build UNet2DConditionModel: ${field} must be a number, got ${JSON.stringify(value)}`);
  }
  return value;
}

function numberList(json: Json, field: string, fallback: number[]): number[] {
  const value = json[field] ?? fallback;
  if (!Array.isArray(value) || !value.every((v) => typeof v === "number")) {
    throw unsupported(`Cannot build UNet2DConditionModel: ${field} must be a list of numbers`);
  }
  return value as number[];
}

function stringList(json: Json, field: string, fallback: string[]): string[] {
  const value = json[field] ?? fallback;
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw unsupported(`Cannot build UNet2DConditionModel: ${field} must be a list of strings`);
  }
  return value as string[];
}
