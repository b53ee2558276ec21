import { cast, mul, narrow, noGrad, sum, type Tensor, tensor, tidy } from "@spo/wgpu-tensor";
import { SpmInputError } from "../errors.ts";
import { checkTimesteps } from "../model/_checks.ts";
import type { StepPreferenceModel } from "../model/step_preference_model.ts";
import { preprocessImages } from "../preprocess/preprocess.ts";

/**
 * Anything that scores candidate images at their timesteps (the SPO trainer takes one): images
 * [N, 3, H, W] in [−1, 1], one prompt and one timestep per image → N scores.
 */
export interface StepScorer {
  score(images: Tensor, prompts: readonly string[], timesteps: readonly number[]): Promise<Float32Array>;
}

/** The part of a tokenizer the scorer uses (`CLIPTokenizer` from `@spo/clip` has it). */
export interface PromptTokenizer {
  encodeBatch(texts: readonly string[], options?: { maxLength?: number }): number[][];
}

/** Options of `StepPreferenceScorer`. */
export interface ScorerOptions {
  /** Images per forward pass (default 8): bounds the memory a large pool needs. */
  chunkSize?: number;
}

/**
 * Scores raw images with a step-aware preference model exactly as SPO's `get_preference_score`:
 * pre-processing (bicubic resize, centre crop, [−1, 1] → [0, 1], CLIP normalisation), the
 * checkpoint's tokenizer, then exp(logit_scale)·cos per (image, prompt, timestep). Runs in chunks
 * without gradients; every argument is checked before anything is dispatched. Satisfies
 * `StepScorer`, so the SPO trainer can use it.
 *
 * @example
 * ```ts
 * const scorer = new StepPreferenceScorer(model, tokenizer, { chunkSize: 4 });
 * const scores = await scorer.score(decoded, ["a cat", "a cat"], [501, 501]); // Float32Array(2)
 * ```
 */
export class StepPreferenceScorer implements StepScorer {
  readonly model: StepPreferenceModel;
  readonly tokenizer: PromptTokenizer | null;
  readonly chunkSize: number;

  constructor(model: StepPreferenceModel, tokenizer: PromptTokenizer | null, options: ScorerOptions = {}) {
    const chunkSize = options.chunkSize ?? 8;
    if (!Number.isInteger(chunkSize) || chunkSize <= 0)
      throw new SpmInputError("chunkSize", `Cannot make a scorer: chunkSize ${chunkSize} must be a positive integer`);
    this.model = model;
    this.tokenizer = tokenizer;
    this.chunkSize = chunkSize;
  }

  /** One score per image: `prompts[i]` and `timesteps[i]` go with image i. */
  async score(images: Tensor, prompts: readonly string[], timesteps: readonly number[]): Promise<Float32Array> {
    const batch = this.#checkImages(images);
    if (!Array.isArray(prompts) || prompts.some((p) => typeof p !== "string")) {
      throw new SpmInputError("prompts", "Cannot score: prompts must be an array of strings");
    }
    if (prompts.length !== batch)
      throw new SpmInputError("prompts", `Cannot score: prompts has ${prompts.length} entries, the images ${batch}`);
    if (!this.tokenizer)
      throw new SpmInputError("prompts", "Cannot score prompts: this scorer has no tokenizer (use scoreIds, or pass one)");
    this.#checkTimesteps(timesteps, batch);
    const ids = this.tokenizer.encodeBatch(prompts, { maxLength: this.model.config.text.maxPositionEmbeddings });
    return await this.#run(images, ids, timesteps);
  }

  /** Like `score` with token ids (one row per image, each of the model's context length or shorter). */
  async scoreIds(images: Tensor, ids: readonly (readonly number[])[], timesteps: readonly number[]): Promise<Float32Array> {
    const batch = this.#checkImages(images);
    if (!Array.isArray(ids) || ids.length !== batch) {
      throw new SpmInputError("ids", `Cannot score: ids has ${Array.isArray(ids) ? ids.length : "no"} rows, the images ${batch}`);
    }
    const { maxPositionEmbeddings, vocabSize } = this.model.config.text;
    const length = ids[0]?.length ?? 0;
    ids.forEach((row, i) => {
      if (row.length !== length || length === 0 || length > maxPositionEmbeddings) {
        throw new SpmInputError(
          "ids",
          `Cannot score: ids row ${i} has ${row.length} ids; all rows need one length from 1 to ${maxPositionEmbeddings}`,
        );
      }
      const bad = row.find((id: number) => !Number.isInteger(id) || id < 0 || id >= vocabSize);
      if (bad !== undefined)
        throw new SpmInputError("ids", `Cannot score: ids row ${i} holds ${bad}, outside the vocabulary [0, ${vocabSize})`);
    });
    this.#checkTimesteps(timesteps, batch);
    return await this.#run(images, ids, timesteps);
  }

  #checkTimesteps(timesteps: readonly number[], batch: number): void {
    if (this.model.isTimeConditioned) {
      checkTimesteps(timesteps, batch);
    } else if (!Array.isArray(timesteps) || timesteps.length !== batch) {
      throw new SpmInputError(
        "timesteps",
        `Cannot score: timesteps has ${Array.isArray(timesteps) ? timesteps.length : "no"} entries, the images ${batch}`,
      );
    }
  }

  #checkImages(images: Tensor): number {
    const channels = this.model.config.vision.numChannels;
    if (!images || typeof images !== "object" || !("shape" in images))
      throw new SpmInputError("images", "Cannot score: images must be a Tensor [N, 3, H, W]");
    if (images.ndim !== 4 || images.shape[1] !== channels || images.shape[0] === 0 || images.shape[2] === 0 || images.shape[3] === 0) {
      throw new SpmInputError(
        "images",
        `Cannot score images of shape [${images.shape.join(", ")}]: expected [N ≥ 1, ${channels}, H, W] in [−1, 1]`,
      );
    }
    if (images.dtype !== "f32" && images.dtype !== "f16")
      throw new SpmInputError("images", `Cannot score ${images.dtype} images: expected f32 or f16`);
    return images.shape[0];
  }

  /** Rejects NaN or ±∞ pixels: x·0 is NaN exactly there, summed per image (one small reduction, read back). */
  async #checkFinite(images: Tensor): Promise<void> {
    const perImage = noGrad(() => tidy(() => sum(mul(cast(images, "f32"), 0), [1, 2, 3])));
    const values = await perImage.toArray();
    perImage.dispose();
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new SpmInputError("images", `Cannot score: image ${bad} holds NaN or infinite values`);
  }

  async #run(images: Tensor, ids: readonly (readonly number[])[], timesteps: readonly number[]): Promise<Float32Array> {
    await this.#checkFinite(images);
    const { imageSize } = this.model.config.vision;
    const { imageMean: mean, imageStd: std } = this.model.config;
    const dtype = this.model.text_projection.weight.dtype;
    const batch = images.shape[0];
    const scores = new Float32Array(batch);
    for (let start = 0; start < batch; start += this.chunkSize) {
      const count = Math.min(this.chunkSize, batch - start);
      const chunk = noGrad(() =>
        tidy(() => {
          const slice = count === batch ? images : narrow(images, 0, start, count);
          // pre-process in the images' own precision, then hand the model its dtype
          const prepared = preprocessImages(slice, { imageSize, mean, std });
          const pixels = prepared.dtype === dtype ? prepared : cast(prepared, dtype);
          const rows = ids.slice(start, start + count);
          const idTensor = tensor(Int32Array.from(rows.flat()), [count, rows[0].length], { dtype: "i32", device: images.device });
          const out = this.model.pairScores(pixels, idTensor, timesteps.slice(start, start + count));
          return out.dtype === "f32" ? out : cast(out, "f32");
        }),
      );
      scores.set(await chunk.toArray(), start);
      chunk.dispose();
    }
    return scores;
  }
}
