/**
 * The prompts of a toy fine-tuning experiment: a fixed evaluation set of held-out prompts, each with
 * its own noise seed (so "before" and "after" images start from the same noise), and training
 * prompts drawn from the training split only. `checkTrainingPrompts` refuses any held-out prompt,
 * so an evaluation on held-out prompts always measures composition the fine-tune never saw.
 *
 * @module
 */

import { formatPrompt } from "../world/grammar.ts";
import { parsePrompt } from "../world/parser.ts";
import type { Scene } from "../world/scene.ts";
import { isHeldOut, sampleScenes } from "../world/split.ts";

/** Held-out prompts with one noise seed each. */
export interface ToyEvaluationSet {
  scenes: Scene[];
  prompts: string[];
  /** The starting-noise seed of each prompt's image. */
  seeds: number[];
}

/** Options of `heldOutEvaluation`. */
export interface HeldOutEvaluationOptions {
  /** Number of prompts (and images). */
  count: number;
  /** Seed of the prompt draw (default 2024, as the base model's evaluation). */
  seed?: number;
  /** The first image's noise seed; image i uses `firstNoiseSeed + i` (default 10,000). */
  firstNoiseSeed?: number;
}

/**
 * A fixed evaluation set: `count` held-out prompts (40 % single objects) and their noise seeds. The
 * same options give the same set, and the first n prompts of a larger set are the set of size n.
 *
 * @example
 * ```ts
 * const set = heldOutEvaluation({ count: 64 });
 * set.prompts[0]; // a prompt naming a held-out colour–shape pair
 * set.seeds[0]; // 10000
 * ```
 */
export function heldOutEvaluation(options: HeldOutEvaluationOptions): ToyEvaluationSet {
  const { count, seed = 2024, firstNoiseSeed = 10_000 } = options;
  if (!Number.isInteger(count) || count < 1)
    throw new RangeError(`Cannot build a held-out evaluation set: count must be a positive integer, got ${count}`);
  if (!Number.isInteger(firstNoiseSeed) || firstNoiseSeed < 0)
    throw new RangeError(`Cannot build a held-out evaluation set: firstNoiseSeed must be a non-negative integer, got ${firstNoiseSeed}`);
  const scenes = sampleScenes(count, { split: "heldout", seed });
  return { scenes, prompts: scenes.map(formatPrompt), seeds: scenes.map((_, i) => firstNoiseSeed + i) };
}

/**
 * `count` training prompts (training split only, 40 % single objects), seeded.
 *
 * @example
 * ```ts
 * const prompts = trainingPrompts(32, { seed: 0 });
 * checkTrainingPrompts(prompts); // passes: none names a held-out pair
 * ```
 */
export function trainingPrompts(count: number, options: { seed?: number } = {}): string[] {
  return sampleScenes(count, { split: "train", seed: options.seed ?? 0 }).map(formatPrompt);
}

/** A prompt offered for training names a held-out colour–shape pair (or is no toy-world prompt). */
export class HeldOutLeakError extends Error {
  override name = "HeldOutLeakError";
  constructor(
    readonly prompt: string,
    readonly index: number,
  ) {
    super(
      `Cannot train on prompt ${index} ${JSON.stringify(prompt)}: it names a held-out colour–shape pair, which training must never see`,
    );
  }
}

/**
 * Throws `HeldOutLeakError` for the first prompt that names a held-out pair, and the parser's
 * `PromptParseError` for one outside the grammar.
 *
 * @example
 * ```ts
 * checkTrainingPrompts(["a large red circle in the center on a white background"]); // fine
 * checkTrainingPrompts(["a large blue circle in the center on a white background"]); // throws HeldOutLeakError
 * ```
 */
export function checkTrainingPrompts(prompts: readonly string[]): void {
  prompts.forEach((prompt, index) => {
    if (isHeldOut(parsePrompt(prompt))) throw new HeldOutLeakError(prompt, index);
  });
}
