import { noGrad, tensor, tidy } from "@spo/wgpu-tensor";
import type { StepPreferenceModel } from "../model/step_preference_model.ts";
import type { PromptTokenizer } from "../scoring/scorer.ts";
import { checkPairBatch, type PairBatch, type StepDenoiser } from "./pairs.ts";
import { pairPixels } from "./train.ts";
import { randomInt, seededRandom } from "./_random.ts";

/** SPO's evaluation timesteps for preference models. */
export const SPM_EVAL_TIMESTEPS: readonly number[] = [0, 251, 501, 701, 951];

/** Accuracy at one timestep. */
export interface PairwiseAccuracy {
  timestep: number;
  /** Fraction of decided pairs (label 1 or 0; ties are left out) where the preferred image scored higher. */
  accuracy: number;
  /** Decided pairs counted. */
  count: number;
}

/** Options of `evaluatePairwiseAccuracy`. */
export interface EvaluateSpmOptions {
  tokenizer: PromptTokenizer;
  /** Needed for every timestep above 0. */
  denoiser?: StepDenoiser;
  /** Default SPO's {0, 251, 501, 701, 951}. */
  timesteps?: readonly number[];
  /** Seed of the noise (the same for both images of a pair). */
  seed?: number;
}

/**
 * Pairwise accuracy at fixed timesteps, as SPO evaluates its preference models: at t = 0 the clean
 * images, at other t the frozen denoiser's x̂0 of both images (same noise), scored at t (the
 * step-agnostic model ignores t, which is the point of the ablation). The pair batches are not disposed.
 *
 * @example
 * ```ts
 * const table = await evaluatePairwiseAccuracy(model, validationPairs, { tokenizer, denoiser });
 * // [{ timestep: 0, accuracy: 0.62, count: 500 }, { timestep: 251, … }, …]
 * ```
 */
export async function evaluatePairwiseAccuracy(
  model: StepPreferenceModel,
  batches: readonly PairBatch[],
  options: EvaluateSpmOptions,
): Promise<PairwiseAccuracy[]> {
  const results: PairwiseAccuracy[] = [];
  for (const t of options.timesteps ?? SPM_EVAL_TIMESTEPS) {
    let correct = 0;
    let decided = 0;
    for (const [index, batch] of batches.entries()) {
      const count = checkPairBatch(batch, model.config.vision.numChannels);
      const random = seededRandom(options.seed ?? 0, 7919 * index + t);
      const noiseSeeds = Array.from({ length: count }, () => randomInt(random, 2 ** 31));
      const timesteps = new Array<number>(count).fill(t);
      const pixels = await pairPixels(model, batch, timesteps, noiseSeeds, options.denoiser);
      const rows = options.tokenizer.encodeBatch([...batch.prompts, ...batch.prompts], {
        maxLength: model.config.text.maxPositionEmbeddings,
      });
      const scores = noGrad(() =>
        tidy(() => {
          const ids = tensor(Int32Array.from(rows.flat()), [rows.length, rows[0].length], { dtype: "i32", device: pixels.device });
          return model.pairScores(pixels, ids, [...timesteps, ...timesteps]);
        }),
      );
      const values = await scores.toArray();
      scores.dispose();
      pixels.dispose();
      batch.labels.forEach((label, i) => {
        if (label === 0.5) return;
        decided++;
        if (values[i] > values[i + count] === label > 0.5) correct++;
      });
    }
    results.push({ timestep: t, accuracy: decided ? correct / decided : Number.NaN, count: decided });
  }
  return results;
}
