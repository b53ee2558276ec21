import { type ToyModel, sampleToyImages } from "../model/toy_sampler.ts";
import { formatPrompt } from "../world/grammar.ts";
import { IMAGE_SIZE } from "../world/render.ts";
import { sampleScenes, type Split } from "../world/split.ts";

/** How base samples for preference pairs are drawn. */
export interface BaseSampling {
  samplesPerPrompt: number;
  /** DDIM steps (η = 0, CFG 5). */
  steps: number;
}

/**
 * `promptCount` prompts of a split (drawn with `seed`) and `samplesPerPrompt` base-model samples of
 * each, consecutive per prompt (what `sampledPairs` pairs up), in chunks of 16 prompts.
 */
export async function baseSamples(
  model: ToyModel,
  split: Split,
  promptCount: number,
  seed: number,
  sampling: BaseSampling,
  log?: (message: string) => void,
): Promise<{ images: Float32Array; prompts: string[] }> {
  const prompts = sampleScenes(promptCount, { split, seed }).map(formatPrompt);
  const per = sampling.samplesPerPrompt;
  const values = 3 * IMAGE_SIZE * IMAGE_SIZE;
  const images = new Float32Array(promptCount * per * values);
  const chunk = 16;
  for (let start = 0; start < promptCount; start += chunk) {
    const rows = prompts.slice(start, start + chunk).flatMap((p) => new Array<string>(per).fill(p));
    const seeds = rows.map((_, i) => seed * 1_000_003 + (start * per + i));
    images.set(await sampleToyImages(model, rows, { seeds, steps: sampling.steps }), start * per * values);
    log?.(`sampled ${Math.min(start + chunk, promptCount) * per}/${promptCount * per} ${split} images`);
  }
  return { images, prompts };
}
