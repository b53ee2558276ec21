import { UnsupportedConfigError } from "../autoencoder_kl/vae_config.ts";

/** The TAESD families taesd.py builds: `null` (8× down, 64 channels: SD1/2, SDXL, SD3, FLUX.1) and `"f32"` (32× down). */
export type TaesdVariant = null | "f32";

/** TAESD's configuration (taesd.py's constructor arguments and class constants). */
export interface TaesdConfig {
  latentChannels: number;
  archVariant: TaesdVariant;
  /** `scaleLatents` maps raw latents to [0, 1] by x/(2·magnitude) + shift (taesd.py: 3 and 0.5). */
  latentMagnitude: number;
  latentShift: number;
}

type Json = Record<string, unknown>;

/** diffusers `AutoencoderTiny` fields that must describe taesd.py's layout. */
const TINY_LAYOUT: Record<string, unknown> = {
  encoder_block_out_channels: [64, 64, 64, 64],
  decoder_block_out_channels: [64, 64, 64, 64],
  num_encoder_blocks: [1, 3, 3, 3],
  num_decoder_blocks: [3, 3, 3, 1],
  act_fn: "relu",
  upsample_fn: "nearest",
  upsampling_scaling_factor: 2,
  in_channels: 3,
  out_channels: 3,
};

/**
 * Reads a TAESD config: the oracle's `{latent_channels, arch_variant, latent_magnitude,
 * latent_shift}` or a diffusers `AutoencoderTiny` `config.json` (its layout fields must be the
 * SD TAESD's), with taesd.py's defaults (4 latent channels, magnitude 3, shift 0.5).
 *
 * @example
 * ```ts
 * taesdConfigFromJson({ latent_channels: 16 }).archVariant; // null (TAESD3 / TAEF1 layout)
 * ```
 */
export function taesdConfigFromJson(json: Json = {}): TaesdConfig {
  const latentChannels = json.latent_channels ?? 4;
  if (typeof latentChannels !== "number" || !Number.isInteger(latentChannels) || latentChannels <= 0) {
    throw new UnsupportedConfigError(
      `Cannot build TAESD: latent_channels = ${JSON.stringify(latentChannels)}, it must be a positive integer`,
    );
  }
  const archVariant = json.arch_variant ?? null;
  if (archVariant !== null && archVariant !== "f32") {
    throw new UnsupportedConfigError(
      `Cannot build TAESD: arch_variant = ${JSON.stringify(archVariant)} is not supported (supported: null, "f32")`,
    );
  }
  for (const [field, expected] of Object.entries(TINY_LAYOUT)) {
    if (json[field] !== undefined && JSON.stringify(json[field]) !== JSON.stringify(expected)) {
      throw new UnsupportedConfigError(
        `Cannot build TAESD: ${field} = ${JSON.stringify(json[field])} is not supported (supported: ${JSON.stringify(expected)})`,
      );
    }
  }
  const latentMagnitude = json.latent_magnitude ?? 3;
  const latentShift = json.latent_shift ?? 0.5;
  if (typeof latentMagnitude !== "number" || typeof latentShift !== "number") {
    throw new UnsupportedConfigError(
      `Cannot build TAESD: latent_magnitude and latent_shift must be numbers, got ${JSON.stringify(latentMagnitude)} and ${JSON.stringify(latentShift)}`,
    );
  }
  return { latentChannels, archVariant: archVariant as TaesdVariant, latentMagnitude, latentShift };
}
