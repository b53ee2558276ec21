/**
 * Stable Diffusion's pieces as the trainer's interfaces: the CLIP text encoder and tokenizer as a
 * `PromptEncoder` (A1111 weighted encoding of @spo/pipeline, truncated to the first 77-token chunk
 * as SPO's dataset truncates), and the VAE as the sampler's `decode` (x̂₀ / scaling factor →
 * images in [−1, 1], in tiles when one decode would exceed a storage binding).
 *
 * @module
 */

import { type ChunkTokenizer, encodePrompts, type PromptTextEncoder } from "@spo/pipeline";
import { type AutoencoderKL, decodeWithinLimit } from "@spo/vae";
import { div, narrow, type Tensor, tidy } from "@spo/wgpu-tensor";
import type { PromptEncoder } from "../sampler/guided_denoiser.ts";

/**
 * A `PromptEncoder` from SD's text encoder and tokenizer: [B, 77, D] per call.
 *
 * @example
 * ```ts
 * const { textEncoder, tokenizer } = pipe.components;
 * const promptEncoder = clipPromptEncoder(textEncoder, tokenizer);
 * ```
 */
export function clipPromptEncoder(textEncoder: PromptTextEncoder, tokenizer: ChunkTokenizer): PromptEncoder {
  return {
    encode(prompts) {
      const { context } = encodePrompts(textEncoder, tokenizer, prompts);
      if (context.shape[1] === 77) return context;
      const first = tidy(() => narrow(context, 1, 0, 77));
      context.dispose();
      return first;
    },
  };
}

/**
 * The sampler's `decode` for a latent diffusion model: vae.decode(latents / scalingFactor).
 *
 * @example
 * ```ts
 * const decode = vaeDecoder(pipe.components.vae); // images in [-1, 1]
 * ```
 */
export function vaeDecoder(vae: AutoencoderKL): (latents: Tensor) => Tensor {
  return (latents) => tidy(() => decodeWithinLimit(vae, div(latents, vae.config.scalingFactor), latents.device.maxBindingBytes));
}
