/**
 * Bad input to a step-aware preference model call (images, prompts, ids or timesteps): names the
 * argument and what was expected. Thrown before anything is dispatched to the GPU.
 *
 * @example
 * ```ts
 * await scorer.score(images, ["a cat"], [0, 0]); // SpmInputError: … prompts has 1 entries, timesteps 2
 * ```
 */
export class SpmInputError extends RangeError {
  override name = "SpmInputError";
  constructor(
    readonly argument: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A checkpoint that is not a step-aware preference model of this configuration (a UNet, a plain
 * CLIP given where adaLN weights are required, another width): names what was found.
 */
export class CheckpointArchitectureError extends Error {
  override name = "CheckpointArchitectureError";
}
