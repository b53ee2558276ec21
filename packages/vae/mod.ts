/**
 * Stable Diffusion's autoencoders on `@spo/wgpu-tensor`, for browsers and Node: diffusers'
 * `AutoencoderKL` (encoder to a diagonal Gaussian posterior, decoder) built from its
 * `vae/config.json`, and TAESD (madebyollin/taesd's tiny encoder/decoder, for live previews),
 * loading diffusers, legacy, single-file (LDM) and taesd checkpoints tensor by tensor.
 *
 * Node loaders (`loadAutoencoderKL`, `loadTAESD`, …) are in `@spo/vae/node`.
 *
 * @example
 * ```ts
 * import { Device, randn } from "@spo/wgpu-tensor";
 * import { AutoencoderKL } from "@spo/vae";
 * await Device.create();
 * const vae = AutoencoderKL.fromConfig({ block_out_channels: [32, 64], norm_num_groups: 32 });
 * const posterior = vae.encode(randn([1, 3, 32, 32], { seed: 0 }));
 * posterior.mean.shape; // [1, 4, 16, 16]
 * ```
 *
 * @module
 */

export {
  type AutoencoderKLConfig,
  autoencoderKLConfigFromDiffusers,
  SD15_VAE_CONFIG,
  UnsupportedConfigError,
} from "./autoencoder_kl/vae_config.ts";
export { AutoencoderKL, type VAEPassOptions } from "./autoencoder_kl/autoencoder_kl.ts";
export {
  decodeWithinLimit,
  largestDecodeActivationBytes,
  type TileDecoder,
  tiledDecode,
  tileLatentSizeWithin,
  vaeScaleFactor,
  type VAETilingOptions,
} from "./autoencoder_kl/tiled_decode.ts";
export { DiagonalGaussianDistribution, LOGVAR_RANGE } from "./autoencoder_kl/diagonal_gaussian.ts";
export { VAEEncoder } from "./autoencoder_kl/encoder.ts";
export { VAEDecoder } from "./autoencoder_kl/decoder.ts";
export { DownEncoderBlock2D, UpDecoderBlock2D, VAEMidBlock2D } from "./autoencoder_kl/blocks.ts";
export { VAE_NORM_EPS, VAEResnetBlock2D } from "./autoencoder_kl/resnet.ts";
export { VAEDownsample2D, VAEUpsample2D } from "./autoencoder_kl/sampling.ts";
export { FUSED_MAX_HEAD_SIZE, VAEAttention, vaeAttentionCore, type VAEAttentionCoreOptions } from "./autoencoder_kl/attention.ts";
export { TAESD, TAESDDecoder, TAESDEncoder } from "./taesd/taesd.ts";
export { TAESDBlock } from "./taesd/taesd_block.ts";
export { type TaesdConfig, taesdConfigFromJson, type TaesdVariant } from "./taesd/taesd_config.ts";
export { taesdDecoderLayers, taesdEncoderLayers, type TaesdLayer } from "./taesd/taesd_layers.ts";
export { loadAutoencoderKLWeights, loadTaesdWeights, type VaeLoadOptions } from "./loading/vae_checkpoint.ts";
export { ldmVaeName, legacyVaeName } from "./loading/vae_key_map.ts";
