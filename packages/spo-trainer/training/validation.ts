/**
 * Validation images: a fixed prompt and seed sampled with CFG and deterministic DDIM (η = 0, the
 * stock pipeline's setting), decoded, so the images of successive epochs are comparable.
 *
 * @module
 */

import { noGrad, RandomGenerator, type Tensor, tidy } from "@spo/wgpu-tensor";
import type { DDIMScheduler } from "@spo/diffusion-unet";
import { guidedEpsilon, type NoisePredictor, type PromptEncoder } from "../sampler/guided_denoiser.ts";

/**
 * `count` images of `prompt` from seed `seed` ([count, C, H, W] after `decode`).
 *
 * @example
 * ```ts
 * const images = await sampleImages({ unet, scheduler, promptEncoder }, "A beautiful lake", { seed: 0, count: 2, latentShape: [4, 64, 64] });
 * ```
 */
export async function sampleImages(
  models: { unet: NoisePredictor; scheduler: DDIMScheduler; promptEncoder: PromptEncoder; decode?: (latents: Tensor) => Tensor },
  prompt: string,
  options: { seed: number; count: number; latentShape: readonly number[]; steps?: number; guidanceScale?: number; eta?: number },
): Promise<Tensor> {
  const { unet, scheduler, promptEncoder } = models;
  const count = options.count;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`Cannot sample ${count} validation images: expected a positive integer`);
  scheduler.setTimesteps(options.steps ?? 20);
  const generator = new RandomGenerator(options.seed);
  return noGrad(() => {
    const cond = promptEncoder.encode(new Array<string>(count).fill(prompt));
    const uncond = promptEncoder.encode(new Array<string>(count).fill(""));
    let x = generator.randn([count, ...options.latentShape]);
    for (const t of scheduler.timesteps) {
      const next = tidy(() => {
        const eps = guidedEpsilon(unet, x, new Array<number>(count).fill(t), cond, uncond, options.guidanceScale ?? 5);
        return scheduler.step(eps, t, x, { eta: options.eta ?? 0, generator }).prevSample;
      });
      x.dispose();
      x = next;
    }
    cond.dispose();
    uncond.dispose();
    if (!models.decode) return x;
    const images = models.decode(x);
    if (images !== x) x.dispose();
    return images;
  });
}
