import {
  Conv2d,
  keep,
  type LayerOptions,
  type ModelDType,
  Module,
  ShapeError,
  type Tensor,
  tidy,
  toDType,
  withInitStream,
} from "@spo/wgpu-tensor";
import { VAEDecoder } from "./decoder.ts";
import { DiagonalGaussianDistribution } from "./diagonal_gaussian.ts";
import { VAEEncoder } from "./encoder.ts";
import { type AutoencoderKLConfig, autoencoderKLConfigFromDiffusers } from "./vae_config.ts";

/** Options of `encode` / `decode`. */
export interface VAEPassOptions {
  /**
   * When given, receives intermediate activations (the caller disposes them): `encoder_out` (the
   * encoder output before quant_conv) in `encode`, `post_quant_conv_out` in `decode`.
   */
  capture?: Map<string, Tensor>;
}

/**
 * diffusers' `AutoencoderKL` (Stable Diffusion's VAE), built from `vae/config.json`: images in
 * [−1, 1] [B, 3, H, W] ↔ latents [B, 4, H/8, W/8]. Like diffusers, `encode` and `decode` do not
 * apply `config.scalingFactor` (0.18215 for SD1.5): the pipeline multiplies latents by it after
 * encoding and divides before decoding.
 *
 * @example
 * ```ts
 * const vae = AutoencoderKL.fromConfig(JSON.parse(configJson), { init: "meta" });
 * await loadAutoencoderKLWeights(vae, reader);
 * const latents = mul(vae.encode(image).mean, vae.config.scalingFactor);
 * const decoded = vae.decode(div(latents, vae.config.scalingFactor)); // ≈ image
 * ```
 */
export class AutoencoderKL extends Module {
  readonly config: AutoencoderKLConfig;
  readonly encoder: VAEEncoder;
  readonly decoder: VAEDecoder;
  readonly quant_conv: Conv2d | null;
  readonly post_quant_conv: Conv2d | null;

  /** Storage dtype of weights and activations (`options.dtype`, f32 by default); see PRECISION_RULES. */
  readonly dtype: ModelDType;

  constructor(config: AutoencoderKLConfig, given: LayerOptions = {}) {
    super();
    const options = withInitStream(given); // a seeded build's weights depend on its seed alone
    this.config = config;
    if (options.dtype !== undefined && options.dtype !== "f32" && options.dtype !== "f16") {
      throw new RangeError(`Cannot make an AutoencoderKL in ${options.dtype}: the dtype must be f32 or f16`);
    }
    this.dtype = options.dtype ?? "f32";
    const latent = config.latentChannels;
    this.encoder = this.registerModule("encoder", new VAEEncoder(config, options));
    this.decoder = this.registerModule("decoder", new VAEDecoder(config, options));
    this.quant_conv = config.useQuantConv ? this.registerModule("quant_conv", new Conv2d(2 * latent, 2 * latent, 1, options)) : null;
    this.post_quant_conv = config.usePostQuantConv ? this.registerModule("post_quant_conv", new Conv2d(latent, latent, 1, options)) : null;
  }

  /** Builds the model from a diffusers `vae/config.json` object. */
  static fromConfig(json: Record<string, unknown>, options: LayerOptions = {}): AutoencoderKL {
    return new AutoencoderKL(autoencoderKLConfigFromDiffusers(json), options);
  }

  /** The posterior q(z|x) of images x [B, inChannels, H, W] (in [−1, 1] for SD); its moments are in x's dtype. */
  encode(x: Tensor, options: VAEPassOptions = {}): DiagonalGaussianDistribution {
    this.#checkInput("encode", x, this.config.inChannels, "image");
    const moments = tidy(() => {
      const h = this.encoder.forward(toDType(x, this.dtype));
      if (options.capture) options.capture.set("encoder_out", keep(h));
      return toDType(this.quant_conv ? this.quant_conv.forward(h) : h, x.dtype);
    });
    try {
      return new DiagonalGaussianDistribution(moments);
    } finally {
      // moments is the captured encoder output itself when there is no quant_conv
      if (this.quant_conv || !options.capture || x.dtype !== this.dtype) moments.dispose();
    }
  }

  /** Images [B, outChannels, 8h, 8w] (about [−1, 1], not clamped, in z's dtype) from latents z [B, latentChannels, h, w]. */
  decode(z: Tensor, options: VAEPassOptions = {}): Tensor {
    this.#checkInput("decode", z, this.config.latentChannels, "latent");
    return tidy(() => {
      const typed = toDType(z, this.dtype);
      const h = this.post_quant_conv ? this.post_quant_conv.forward(typed) : typed;
      if (options.capture && this.post_quant_conv) options.capture.set("post_quant_conv_out", keep(h));
      return toDType(this.decoder.forward(h), z.dtype);
    });
  }

  /** diffusers' `forward`: decode the posterior's mean, or a sample of it when `noise` is given. */
  forward(x: Tensor, options: { noise?: Tensor | { seed: number; offset?: number } } = {}): Tensor {
    const posterior = this.encode(x);
    try {
      const z = options.noise ? posterior.sample(options.noise) : posterior.mode();
      try {
        return this.decode(z);
      } finally {
        z.dispose();
      }
    } finally {
      posterior.dispose();
    }
  }

  #checkInput(op: string, x: Tensor, channels: number, what: string): void {
    if (x.ndim !== 4 || x.shape[1] !== channels) {
      throw new ShapeError(
        `AutoencoderKL.${op}`,
        [x.shape],
        `Cannot ${op} a tensor of shape [${x.shape.join(", ")}]: expected an ${what} batch [batch, ${channels}, height, width]`,
      );
    }
  }
}
