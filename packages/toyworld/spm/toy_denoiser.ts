/**
 * The frozen denoiser of toy SPM training (SPO's way): each clean image is noised to its timestep with
 * its own seeded noise, the base model predicts with CFG, and the prediction becomes x̂0. In pixel
 * space there is no VAE, so x̂0 is already an image.
 */
import { DDIMScheduler } from "@spo/diffusion-unet";
import type { StepDenoiser } from "@spo/step-preference-model";
import { guidedEpsilon, resolvePredictionType, sampleFromOutput } from "@spo/trainer";
import { concat, type Device, randn, tensor, tidy } from "@spo/wgpu-tensor";
import { type ToyModel, toyPromptEncoder } from "../model/toy_sampler.ts";

/** Options of `toyStepDenoiser`. */
export interface ToyDenoiserOptions {
  /** CFG scale (default 5, as SPO's SPM training). */
  guidanceScale?: number;
}

/**
 * A `StepDenoiser` from a toy model: x_t = √ᾱ_t·x0 + √(1 − ᾱ_t)·ε (ε from the row's seed), the UNet's
 * CFG output at t, converted to x̂0 by the model's prediction type.
 *
 * @example
 * ```ts
 * const denoiser = toyStepDenoiser(pipe.components);
 * await trainStepPreferenceModel(spm, { tokenizer, pairs, denoiser, steps: 200 });
 * ```
 */
export function toyStepDenoiser(model: ToyModel, options: ToyDenoiserOptions = {}): StepDenoiser {
  const guidanceScale = options.guidanceScale ?? 5;
  const scheduler = DDIMScheduler.fromConfig(model.schedulerConfig);
  const predictionType = resolvePredictionType(undefined, scheduler);
  const encoder = toyPromptEncoder(model);
  return ({ images, prompts, timesteps, noiseSeeds }) => {
    const [, c, h, w] = images.shape;
    const cond = encoder.encode(prompts);
    const uncond = encoder.encode(prompts.map(() => ""));
    try {
      return tidy(() => {
        const noise = concat(
          noiseSeeds.map((seed) => randn([1, c, h, w], { seed, device: images.device })),
          0,
        );
        const noisy = scheduler.addNoise(images, noise, timesteps);
        const output = guidedEpsilon(model.unet, noisy, timesteps, cond, uncond, guidanceScale);
        return sampleFromOutput(scheduler, predictionType, output, timesteps, noisy);
      });
    } finally {
      cond.dispose();
      uncond.dispose();
    }
  };
}

/**
 * A denoiser that remembers x̂0 per request (prompts, timesteps, noise seeds and a hash of the
 * images), so evaluating several preference models on the same pairs runs the UNet once.
 */
export function memoisedDenoiser(inner: StepDenoiser, device: Device): StepDenoiser {
  const cache = new Map<string, { shape: number[]; data: Float32Array }>();
  return async (request) => {
    const key = JSON.stringify([request.prompts, request.timesteps, request.noiseSeeds, fingerprint(await request.images.toArray())]);
    let hit = cache.get(key);
    if (!hit) {
      const out = await inner(request);
      hit = { shape: [...out.shape], data: Float32Array.from(await out.toArray()) };
      out.dispose();
      cache.set(key, hit);
    }
    return tensor(hit.data, hit.shape, { device });
  };
}

/** A 32-bit FNV-1a hash of the values' bits. */
function fingerprint(values: ArrayLike<number>): number {
  const bits = new Uint32Array(Float32Array.from(values).buffer);
  let hash = 0x811c9dc5;
  for (const b of bits) hash = Math.imul(hash ^ b, 0x01000193) >>> 0;
  return hash;
}
