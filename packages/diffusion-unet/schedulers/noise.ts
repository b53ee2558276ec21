import type { Tensor } from "@spo/wgpu-tensor";

/**
 * Anything that draws standard normal noise of a given shape on the device: the role of
 * `torch.Generator` in diffusers' `step(..., generator=...)`. A seeded RNG object with a
 * `randn(shape)` method fits.
 *
 * @example
 * ```ts
 * const fixed: NoiseGenerator = { randn: (shape) => zeros(shape) }; // a generator for tests
 * ```
 */
export interface NoiseGenerator {
  randn(shape: readonly number[]): Tensor;
}

/** The noise options of a stochastic step. */
export interface StepNoiseOptions {
  /** The standard normal noise to use (diffusers `variance_noise`), shaped like the sample. */
  noise?: Tensor;
  /** Draws the noise when `noise` is not given. */
  generator?: NoiseGenerator;
}

/**
 * Throws unless exactly one of `noise` (shaped like the sample) and `generator` is given: call it
 * before any GPU work of a step that will add noise.
 */
export function checkNoiseOptions(action: string, shape: readonly number[], options: StepNoiseOptions): void {
  if (options.noise !== undefined && options.generator !== undefined) {
    throw new TypeError(`Cannot ${action}: pass either noise or generator, not both`);
  }
  if (options.noise === undefined && options.generator === undefined) {
    throw new TypeError(`Cannot ${action}: it adds noise, pass noise (a tensor shaped like the sample) or a generator`);
  }
  if (options.noise !== undefined && !sameShape(options.noise.shape, shape)) {
    throw new TypeError(`Cannot ${action}: noise has shape [${options.noise.shape.join(", ")}], the sample [${shape.join(", ")}]`);
  }
}

/**
 * The noise a step adds: `noise` when given, else a draw from `generator` (`isDrawn`: the caller
 * owns it). Checks the options like `checkNoiseOptions`.
 */
export function resolveNoise(action: string, shape: readonly number[], options: StepNoiseOptions): { noise: Tensor; isDrawn: boolean } {
  checkNoiseOptions(action, shape, options);
  if (options.noise !== undefined) return { noise: options.noise, isDrawn: false };
  return { noise: options.generator!.randn(shape), isDrawn: true };
}

/** Throws unless the model output and the sample have the same shape. */
export function checkSameShape(action: string, modelOutput: Tensor, sample: Tensor): void {
  if (!sameShape(modelOutput.shape, sample.shape)) {
    throw new TypeError(
      `Cannot ${action}: model output has shape [${modelOutput.shape.join(", ")}], the sample [${sample.shape.join(", ")}]; they must match`,
    );
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
