/**
 * Sampling many toy-world prompts at once with the base model (or a fine-tuned one): one UNet call
 * per step for the whole batch, both CFG halves included, since on CPU adapters the cost of a call
 * is mostly fixed. Each image's starting noise comes from its own seed, so an image depends only on
 * its (prompt, seed), not on the batch it was drawn in.
 */
import type { CLIPTextModel, CLIPTokenizer } from "@spo/clip";
import { DDIMScheduler, type UNet2DConditionModel } from "@spo/diffusion-unet";
import { guidedEpsilon, type PromptEncoder } from "@spo/trainer";
import { clamp, concat, noGrad, randn, RandomGenerator, type Tensor, tensor, tidy } from "@spo/wgpu-tensor";

/** The parts of a loaded toy model the sampler uses (`pipeline.components` has them). */
export interface ToyModel {
  tokenizer: CLIPTokenizer;
  textEncoder: CLIPTextModel;
  unet: UNet2DConditionModel;
  schedulerConfig: Record<string, unknown>;
}

/**
 * Prompts → contexts [B, 77, D] exactly as in pretraining: the tokenizer's 77 ids (BOS, tokens,
 * EOS padding) through the text encoder's last hidden state. For prompts of the toy grammar this
 * equals the pipeline's A1111 encoding (one chunk, all weights 1).
 */
export function toyPromptEncoder(model: Pick<ToyModel, "tokenizer" | "textEncoder">): PromptEncoder {
  return {
    encode(prompts: readonly string[]): Tensor {
      const ids = Int32Array.from(prompts.flatMap((p) => model.tokenizer.encode(p)));
      const device = model.textEncoder.text_model.embeddings.token_embedding.weight.device;
      return noGrad(() =>
        tidy(
          () =>
            model.textEncoder.forward(tensor(ids, [prompts.length, ids.length / prompts.length], { dtype: "i32", device })).lastHiddenState,
        ),
      );
    },
  };
}

/** Options of `sampleToyImages`. */
export interface SampleToyOptions {
  /** One seed per prompt (default 0, 1, 2, …). */
  seeds?: readonly number[];
  /** DDIM steps (default 20). */
  steps?: number;
  /** CFG scale (default 5, SPO's). */
  guidanceScale?: number;
  /** DDIM η (default 0: deterministic given the seeds). */
  eta?: number;
  /** Seed of the step noise when η > 0 (default 0). */
  noiseSeed?: number;
}

/**
 * Images for `prompts` ([N, 3, 16, 16] host floats, clamped to [−1, 1]) by DDIM with CFG.
 *
 * @example
 * ```ts
 * const images = await sampleToyImages(model, ["a large red circle in the center on a white background"], { seeds: [7] });
 * reward(images, "a large red circle in the center on a white background");
 * ```
 */
export async function sampleToyImages(model: ToyModel, prompts: readonly string[], options: SampleToyOptions = {}): Promise<Float32Array> {
  const { steps = 20, guidanceScale = 5, eta = 0, noiseSeed = 0 } = options;
  const seeds = options.seeds ?? prompts.map((_, i) => i);
  if (seeds.length !== prompts.length)
    throw new RangeError(`Cannot sample toy images: ${prompts.length} prompts and ${seeds.length} seeds`);
  if (prompts.length === 0) return new Float32Array(0);
  const { unet } = model;
  const device = unet.conv_in.weight.device;
  const shape = [1, unet.config.inChannels, unet.config.sampleSize, unet.config.sampleSize];
  const scheduler = DDIMScheduler.fromConfig(model.schedulerConfig);
  scheduler.setTimesteps(steps);
  const encoder = toyPromptEncoder(model);
  const cond = encoder.encode(prompts);
  const uncond = encoder.encode(prompts.map(() => ""));
  const generator = new RandomGenerator(noiseSeed, { device });
  let x = noGrad(() =>
    tidy(() =>
      concat(
        seeds.map((s) => randn(shape, { seed: s, device })),
        0,
      ),
    ),
  );
  try {
    for (const t of scheduler.timesteps) {
      const next = noGrad(() =>
        tidy(() => {
          const eps = guidedEpsilon(
            unet,
            x,
            prompts.map(() => t),
            cond,
            uncond,
            guidanceScale,
          );
          return scheduler.step(eps, t, x, { eta, generator }).prevSample;
        }),
      );
      x.dispose();
      x = next;
    }
    const clamped = noGrad(() => clamp(x, -1, 1));
    try {
      return new Float32Array(await clamped.toArray());
    } finally {
      clamped.dispose();
    }
  } finally {
    x.dispose();
    cond.dispose();
    uncond.dispose();
  }
}
