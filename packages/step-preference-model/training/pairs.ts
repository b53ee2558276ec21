import type { Tensor } from "@spo/wgpu-tensor";
import { SpmInputError } from "../errors.ts";

/**
 * A batch of labelled preference pairs: image A and image B of pair i (in [−1, 1], any size; both
 * sides the same shape) for `prompts[i]`, with `labels[i]` the probability that A is preferred:
 * 1 (A wins), 0 (B wins) or 0.5 (a tie). The trainer disposes the images after use.
 */
export interface PairBatch {
  imagesA: Tensor;
  imagesB: Tensor;
  prompts: readonly string[];
  labels: readonly number[];
}

/** Where training pairs come from: called once per optimizer step with the step index. */
export type PairSource = (step: number) => PairBatch | Promise<PairBatch>;

/**
 * What the frozen denoiser is asked, for the N pairs at t > 0: rows i and i + N are the two images
 * of pair i, sharing the prompt, the timestep and the noise seed (so both get the same noise, as
 * SPO's SPM training does). Its output may have another spatial size than its input.
 */
export interface DenoiseRequest {
  /** [2N, 3, H, W] clean images in [−1, 1]. */
  images: Tensor;
  prompts: readonly string[];
  /** 2N integer timesteps in [1, 999] (pairs at t = 0 never reach the denoiser: their clean images are used). */
  timesteps: readonly number[];
  /** 2N seeds for the noise of each row (equal within a pair). */
  noiseSeeds: readonly number[];
}

/**
 * A frozen denoiser: noises the clean images at their timesteps (its own way: SD1.5 encodes with the
 * VAE, noises the latent and runs the UNet with CFG; a toy world works in pixels) and returns the
 * predicted clean images x̂0 [2N, 3, H', W'] in (about) [−1, 1]. Called under no-grad (its synchronous
 * part: keep its model frozen).
 */
export type StepDenoiser = (request: DenoiseRequest) => Tensor | Promise<Tensor>;

/** Checks a batch from the pair source before anything runs; returns B. */
export function checkPairBatch(batch: PairBatch, numChannels: number): number {
  const { imagesA, imagesB, prompts, labels } = batch;
  for (const [name, images] of [
    ["imagesA", imagesA],
    ["imagesB", imagesB],
  ] as const) {
    if (!images || images.ndim !== 4 || images.shape[1] !== numChannels || images.shape[0] === 0) {
      throw new SpmInputError(
        name,
        `Cannot train on ${name} of shape [${images?.shape.join(", ")}]: expected [B ≥ 1, ${numChannels}, H, W] in [−1, 1]`,
      );
    }
  }
  if (imagesA.shape.some((d, i) => d !== imagesB.shape[i])) {
    throw new SpmInputError(
      "imagesB",
      `Cannot train on pairs: imagesA is [${imagesA.shape.join(", ")}], imagesB [${imagesB.shape.join(", ")}]; both sides need one shape`,
    );
  }
  const count = imagesA.shape[0];
  if (prompts.length !== count)
    throw new SpmInputError("prompts", `Cannot train on pairs: prompts has ${prompts.length} entries, the pairs ${count}`);
  if (labels.length !== count)
    throw new SpmInputError("labels", `Cannot train on pairs: labels has ${labels.length} entries, the pairs ${count}`);
  labels.forEach((label, i) => {
    if (!(label >= 0 && label <= 1))
      throw new SpmInputError("labels", `Cannot train on pairs: labels[${i}] = ${label}, expected 1, 0 or 0.5 (a probability that A wins)`);
  });
  return count;
}
