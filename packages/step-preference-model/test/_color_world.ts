// A tiny synthetic preference world for training tests: 8×8 images of one colour plus a fixed
// texture, prompts naming a colour channel ("red", "green", "blue"), and the preferred image the one
// with more of that channel (a tie when the two are within 0.1). A stand-in frozen "denoiser" blends
// the clean image with the pair's noise more as t grows, as x̂0 loses detail at high noise.

import { add, concat, type Device, mul, narrow, randn, tensor, tidy } from "@spo/wgpu-tensor";
import type { PromptTokenizer } from "../scoring/scorer.ts";
import type { PairBatch, StepDenoiser } from "../training/pairs.ts";

export const WORDS = ["red", "green", "blue"];

/** The tiny model: vision 8×8, patch 4, width 16; text vocabulary 8 (pad 0, words 1–3, BOS 6, EOS 7), 4 positions. */
export const TINY_CONFIG = {
  projection_dim: 8,
  logit_scale_init_value: 2.6592,
  text_config: {
    vocab_size: 8,
    hidden_size: 16,
    intermediate_size: 24,
    num_attention_heads: 2,
    num_hidden_layers: 1,
    max_position_embeddings: 4,
    hidden_act: "quick_gelu",
    eos_token_id: 7,
  },
  vision_config: {
    hidden_size: 16,
    intermediate_size: 24,
    num_attention_heads: 2,
    num_hidden_layers: 1,
    image_size: 8,
    patch_size: 4,
    hidden_act: "quick_gelu",
  },
};

export const colorTokenizer: PromptTokenizer = {
  encodeBatch: (texts, options) =>
    texts.map((text) => {
      const row = [6, WORDS.indexOf(text) + 1, 7];
      return [...row, ...new Array<number>(Math.max(0, (options?.maxLength ?? 4) - row.length)).fill(0)];
    }),
};

function mulberry(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** B pairs drawn from `seed`: colours in [−0.8, 0.8]³ with a small fixed texture. */
export function colorPairs(seed: number, count: number, device: Device): PairBatch {
  const random = mulberry(seed);
  const size = 3 * 8 * 8;
  const a = new Float32Array(count * size);
  const b = new Float32Array(count * size);
  const prompts: string[] = [];
  const labels: number[] = [];
  for (let i = 0; i < count; i++) {
    const colorA = [0, 1, 2].map(() => random() * 1.6 - 0.8);
    const colorB = [0, 1, 2].map(() => random() * 1.6 - 0.8);
    const channel = Math.floor(random() * 3);
    for (let p = 0; p < size; p++) {
      const texture = 0.1 * Math.sin(p * 0.7);
      a[i * size + p] = colorA[Math.floor(p / 64)] + texture;
      b[i * size + p] = colorB[Math.floor(p / 64)] + texture;
    }
    prompts.push(WORDS[channel]);
    const diff = colorA[channel] - colorB[channel];
    labels.push(Math.abs(diff) < 0.1 ? 0.5 : diff > 0 ? 1 : 0);
  }
  return { imagesA: tensor(a, [count, 3, 8, 8], { device }), imagesB: tensor(b, [count, 3, 8, 8], { device }), prompts, labels };
}

/** x̂0 = (1 − 0.6·t/999)·x0 + 0.6·(t/999)·ε, with ε drawn from the row's noise seed. */
export const blendingDenoiser: StepDenoiser = ({ images, timesteps, noiseSeeds }) =>
  tidy(() => {
    const [, c, h, w] = images.shape;
    const rows = timesteps.map((t, i) => {
      const weight = (0.6 * t) / 999;
      const noise = randn([1, c, h, w], { seed: noiseSeeds[i], device: images.device });
      return add(mul(narrow(images, 0, i, 1), 1 - weight), mul(noise, weight));
    });
    return concat(rows, 0);
  });
