/**
 * Tiny models for the trainer's tests: a 2-level UNet of width 8/16 on 8×8 latents (seeded random
 * weights), SD1.5's DDIM scheduler, and a prompt encoder that maps each word of a prompt to a fixed
 * pseudo-random vector (no CLIP needed; the empty prompt is all zeros).
 */
import { DDIMScheduler, SD15_SCHEDULER_CONFIG, UNet2DConditionModel } from "@spo/diffusion-unet";
import { injectLora, type LoraAdapter } from "@spo/lora";
import { loadTensorInto, mean, noGrad, type RandomGenerator, randn, type Tensor, tensor } from "@spo/wgpu-tensor";
import type { PromptEncoder } from "../sampler/guided_denoiser.ts";

export const TINY_CONTEXT = { tokens: 4, dim: 8 } as const;

export function tinyUnetConfig(channels = 4): Record<string, unknown> {
  return {
    _class_name: "UNet2DConditionModel",
    sample_size: 8,
    in_channels: channels,
    out_channels: channels,
    down_block_types: ["CrossAttnDownBlock2D", "DownBlock2D"],
    mid_block_type: "UNetMidBlock2DCrossAttn",
    up_block_types: ["UpBlock2D", "CrossAttnUpBlock2D"],
    block_out_channels: [8, 16],
    layers_per_block: 1,
    norm_num_groups: 4,
    cross_attention_dim: TINY_CONTEXT.dim,
    attention_head_dim: 4,
  };
}

export function tinyUnet(seed = 1, channels = 4): UNet2DConditionModel {
  const unet = UNet2DConditionModel.fromConfig(tinyUnetConfig(channels), { seed });
  unet.requiresGrad_(false);
  return unet;
}

export function sd15Scheduler(): DDIMScheduler {
  return DDIMScheduler.fromConfig(SD15_SCHEDULER_CONFIG);
}

function wordVector(word: string, dim: number): number[] {
  let h = 2166136261;
  for (const c of word) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return Array.from({ length: dim }, (_, i) => Math.sin(h * 0.001 + i * 1.7));
}

/** Token i of a prompt is its i-th word's vector (padded with zeros). */
export const wordPromptEncoder: PromptEncoder = {
  encode(prompts: readonly string[]): Tensor {
    const { tokens, dim } = TINY_CONTEXT;
    const data = new Float32Array(prompts.length * tokens * dim);
    prompts.forEach((prompt, b) => {
      prompt
        .split(/\s+/)
        .filter(Boolean)
        .slice(0, tokens)
        .forEach((word, i) => data.set(wordVector(word, dim), (b * tokens + i) * dim));
    });
    return tensor(data, [prompts.length, tokens, dim]);
  },
};

/** The mean pixel of each image, on the host (the reduction's tensor freed). */
export async function meanPixels(images: Tensor): Promise<Float32Array> {
  const m = noGrad(() =>
    mean(
      images,
      Array.from({ length: images.ndim - 1 }, (_, i) => i + 1),
    ),
  );
  const values = Float32Array.from(await m.toArray());
  m.dispose();
  return values;
}

/** A draw of N(0, 1) values of `shape` from `generator`, on the host. */
export async function hostNormal(generator: RandomGenerator, shape: readonly number[]): Promise<Float32Array> {
  const x = generator.randn([...shape]);
  const values = Float32Array.from(await x.toArray());
  x.dispose();
  return values;
}

/**
 * LoRA r4 on the attention projections with A and B both N(0, scale²) (seeds firstSeed, firstSeed + 1, …):
 * B ≠ 0, so the policy differs from the reference and both factors get gradients.
 */
export async function randomLora(unet: Parameters<typeof injectLora>[0], scale: number, firstSeed: number): Promise<LoraAdapter> {
  const adapter = injectLora(unet, { rank: 4, alpha: 4, init: "gaussian", targetModules: ["to_q", "to_k", "to_v", "to_out.0"], seed: 2 });
  for (const [i, p] of adapter.parameters().entries()) {
    const values = randn(p.shape, { seed: firstSeed + i });
    loadTensorInto(p, { shape: p.shape, data: Float32Array.from(await values.toArray(), (v) => scale * v) });
    values.dispose();
  }
  return adapter;
}
