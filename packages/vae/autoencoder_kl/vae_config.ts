// The one error of every @spo package for config fields not implemented (the message names the field
// and its value), e.g. AutoencoderKL.fromConfig({ act_fn: "gelu" }).
import { UnsupportedConfigError } from "@spo/wgpu-tensor";

export { UnsupportedConfigError };

/** diffusers' `AutoencoderKL` configuration, read once from `vae/config.json` (camelCase, checked). */
export interface AutoencoderKLConfig {
  inChannels: number;
  outChannels: number;
  latentChannels: number;
  /** Width of each resolution level, from the image side (SD: [128, 256, 512, 512]). */
  blockOutChannels: number[];
  /** Resnets per encoder block (each decoder block has one more). */
  layersPerBlock: number;
  normNumGroups: number;
  /** Whether the mid blocks have their single-head attention (diffusers `mid_block_add_attention`). */
  midBlockAddAttention: boolean;
  useQuantConv: boolean;
  usePostQuantConv: boolean;
  /** Latents are `z · scalingFactor` (+ shift) in the pipeline; encode/decode do not apply it. */
  scalingFactor: number;
  shiftFactor: number | null;
  sampleSize: number;
  forceUpcast: boolean;
}

type Json = Record<string, unknown>;

/** Values a field may hold and still mean what this implementation does; others are rejected by name. */
const MUST_EQUAL: Record<string, readonly unknown[]> = {
  act_fn: ["silu", undefined],
  norm_type: ["group", undefined],
  latents_mean: [null, undefined],
  latents_std: [null, undefined],
};

function positiveInteger(json: Json, name: string, fallback: number): number {
  const value = json[name] ?? fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new UnsupportedConfigError(`Cannot build AutoencoderKL: ${name} = ${JSON.stringify(value)}, it must be a positive integer`);
  }
  return value;
}

function blockTypes(json: Json, name: string, expected: string, count: number): void {
  const value = json[name] ?? Array(count).fill(expected);
  if (!Array.isArray(value) || value.length !== count || value.some((type) => type !== expected)) {
    throw new UnsupportedConfigError(
      `Cannot build AutoencoderKL: ${name} = ${JSON.stringify(value)} is not supported (${count} × "${expected}", one per block_out_channels entry)`,
    );
  }
}

/**
 * Reads a diffusers `vae/config.json` object (snake_case) into a typed config with diffusers'
 * defaults, rejecting by name what is not implemented (other block types or activations,
 * spatial norms, SDXL-style latent statistics).
 *
 * @example
 * ```ts
 * const config = autoencoderKLConfigFromDiffusers(JSON.parse(await readFile("vae/config.json", "utf8")));
 * config.scalingFactor; // 0.18215 for SD1.5
 * ```
 */
export function autoencoderKLConfigFromDiffusers(json: Json): AutoencoderKLConfig {
  for (const [field, allowed] of Object.entries(MUST_EQUAL)) {
    if (!allowed.includes(json[field])) {
      throw new UnsupportedConfigError(`Cannot build AutoencoderKL: ${field} = ${JSON.stringify(json[field])} is not supported`);
    }
  }
  const blockOutChannels = json.block_out_channels ?? [64];
  if (!Array.isArray(blockOutChannels) || blockOutChannels.length === 0 || !blockOutChannels.every((c) => Number.isInteger(c) && c > 0)) {
    throw new UnsupportedConfigError(
      `Cannot build AutoencoderKL: block_out_channels = ${JSON.stringify(blockOutChannels)}, it must be a non-empty list of positive integers`,
    );
  }
  blockTypes(json, "down_block_types", "DownEncoderBlock2D", blockOutChannels.length);
  blockTypes(json, "up_block_types", "UpDecoderBlock2D", blockOutChannels.length);
  const normNumGroups = positiveInteger(json, "norm_num_groups", 32);
  const badChannels = (blockOutChannels as number[]).find((c) => c % normNumGroups !== 0);
  if (badChannels !== undefined) {
    throw new UnsupportedConfigError(
      `Cannot build AutoencoderKL: block_out_channels ${badChannels} is not divisible by norm_num_groups ${normNumGroups}`,
    );
  }
  const shiftFactor = json.shift_factor ?? null;
  if (shiftFactor !== null && typeof shiftFactor !== "number") {
    throw new UnsupportedConfigError(
      `Cannot build AutoencoderKL: shift_factor = ${JSON.stringify(shiftFactor)}, it must be a number or null`,
    );
  }
  return {
    inChannels: positiveInteger(json, "in_channels", 3),
    outChannels: positiveInteger(json, "out_channels", 3),
    latentChannels: positiveInteger(json, "latent_channels", 4),
    blockOutChannels: [...(blockOutChannels as number[])],
    layersPerBlock: positiveInteger(json, "layers_per_block", 1),
    normNumGroups,
    midBlockAddAttention: (json.mid_block_add_attention ?? true) === true,
    useQuantConv: (json.use_quant_conv ?? true) === true,
    usePostQuantConv: (json.use_post_quant_conv ?? true) === true,
    scalingFactor: typeof json.scaling_factor === "number" ? json.scaling_factor : 0.18215,
    shiftFactor,
    sampleSize: typeof json.sample_size === "number" ? json.sample_size : 32,
    forceUpcast: (json.force_upcast ?? true) === true,
  };
}

/**
 * SD1.x's `vae/config.json` (runwayml/stable-diffusion-v1-5), for checkpoints that come without
 * one (single-file A1111 checkpoints).
 */
export const SD15_VAE_CONFIG: Readonly<Record<string, unknown>> = Object.freeze({
  _class_name: "AutoencoderKL",
  in_channels: 3,
  out_channels: 3,
  down_block_types: ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
  up_block_types: ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"],
  block_out_channels: [128, 256, 512, 512],
  layers_per_block: 2,
  act_fn: "silu",
  latent_channels: 4,
  norm_num_groups: 32,
  sample_size: 512,
  scaling_factor: 0.18215,
});
