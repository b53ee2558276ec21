import { formatPrompt } from "./grammar.ts";
import { IMAGE_SIZE, renderScene } from "./render.ts";
import { sampleScenes, type Split } from "./split.ts";

/** One batch of rendered images (CHW floats in [−1, 1], back to back) and their prompts. */
export interface WorldBatch {
  samples: Float32Array;
  captions: string[];
}

/**
 * Batch number `index` of an endless seeded stream of (image, prompt) pairs from one split: the
 * same (index, batchSize, seed) always gives the same batch, so a resumed training run sees what
 * an uninterrupted one would.
 *
 * @example
 * ```ts
 * const { samples, captions } = worldBatch(0, 8);
 * samples.length; // 8 · 3 · 16 · 16
 * ```
 */
export function worldBatch(index: number, batchSize: number, options: { split?: Split; seed?: number; size?: number } = {}): WorldBatch {
  const { split = "train", seed = 0, size = IMAGE_SIZE } = options;
  if (!Number.isInteger(index) || index < 0)
    throw new RangeError(`Cannot make world batch ${index}: the index must be a non-negative integer`);
  const scenes = sampleScenes(batchSize, { split, seed: seed * 1_000_003 + index });
  const perImage = 3 * size * size;
  const samples = new Float32Array(batchSize * perImage);
  scenes.forEach((scene, k) => samples.set(renderScene(scene, { size, seed: (seed * 7919 + index) * batchSize + k }), k * perImage));
  return { samples, captions: scenes.map(formatPrompt) };
}
