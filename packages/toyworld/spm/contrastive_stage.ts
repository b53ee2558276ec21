/**
 * The toy preference model's CLIP pretraining: batches of rendered training-split images with their
 * own prompts, CLIP's contrastive loss (each image against every prompt of the batch and back).
 * Pairwise preferences alone teach a randomly initialised model slowly (150 steps of 32 rendered pairs
 * left held-out pair accuracy at chance, measured); B·(B − 1) negatives per batch teach it what the
 * words mean first, as CLIP's pretraining does for PickScore and SPO's SPM.
 */
import type { CLIPTextModel } from "@spo/clip";
import { contrastiveLoss, preprocessImages, type PromptTokenizer, type StepPreferenceModel } from "@spo/step-preference-model";
import { AdamW, backward, clipGradNorm, LrScheduler, linearSchedule, type StateValue, tensor, tidy } from "@spo/wgpu-tensor";
import { formatPrompt } from "../world/grammar.ts";
import { IMAGE_SIZE, renderScene } from "../world/render.ts";
import { sampleScenes } from "../world/split.ts";

/** Options of `trainContrastive`. */
export interface ContrastiveOptions {
  tokenizer: PromptTokenizer;
  steps: number;
  /** Images (and prompts) per step (default 64). */
  batchSize?: number;
  /** Peak learning rate (default 1e-3), linear warm-up over a tenth of the steps, then linear decay. */
  lr?: number;
  seed?: number;
  onStep?: (step: number, loss: number) => void;
}

/** Contrastive pretraining of `model` on rendered training-split scenes; returns the losses. */
export async function trainContrastive(model: StepPreferenceModel, options: ContrastiveOptions): Promise<number[]> {
  const { tokenizer, steps, batchSize = 64, lr = 1e-3, seed = 0 } = options;
  if (!Number.isInteger(steps) || steps <= 0) throw new RangeError(`Cannot pretrain for ${steps} steps: a positive integer is needed`);
  const device = model.text_projection.weight.device;
  const { imageSize } = model.config.vision;
  const maxLength = model.config.text.maxPositionEmbeddings;
  const values = 3 * IMAGE_SIZE * IMAGE_SIZE;
  model.requiresGrad_(true);
  const optimizer = new AdamW(model.parameters(), { lr, weightDecay: 0.01 });
  const scheduler = new LrScheduler(optimizer, linearSchedule(lr, Math.ceil(steps / 10), steps));
  const losses: number[] = [];
  try {
    for (let step = 0; step < steps; step++) {
      const scenes = sampleScenes(batchSize, { seed: seed * 1_000_003 + step });
      const images = new Float32Array(batchSize * values);
      scenes.forEach((scene, i) => images.set(renderScene(scene, { seed: step * batchSize + i }), i * values));
      const rows = tokenizer.encodeBatch(scenes.map(formatPrompt), { maxLength });
      const loss = tidy(() => {
        const pixels = preprocessImages(tensor(images, [batchSize, 3, IMAGE_SIZE, IMAGE_SIZE], { device }), {
          imageSize,
          mean: model.config.imageMean,
          std: model.config.imageStd,
        });
        const ids = tensor(Int32Array.from(rows.flat()), [batchSize, rows[0]!.length], { dtype: "i32", device });
        const out = model.forward(pixels, ids, new Array<number>(batchSize).fill(0));
        const value = contrastiveLoss(out.logitsPerImage, out.logitsPerText);
        backward(value);
        clipGradNorm(model.parameters(), 1).dispose();
        return value;
      });
      optimizer.step();
      scheduler.step();
      optimizer.zeroGrad();
      const value = (await loss.toArray())[0]!;
      loss.dispose();
      losses.push(value);
      options.onStep?.(step + 1, value);
    }
  } finally {
    optimizer.dispose();
  }
  return losses;
}

/**
 * Copies the base model's text encoder into the preference model's text tower (the position table
 * cut to the tower's length): the toy counterpart of SPO starting its SPM from a pretrained CLIP.
 */
export async function initTextTower(model: StepPreferenceModel, textEncoder: CLIPTextModel): Promise<void> {
  const targets = new Map([...model.namedParameters()].filter(([name]) => name.startsWith("text_model.")));
  const values = new Map<string, StateValue>();
  for (const [name, source] of textEncoder.namedParameters()) {
    const target = targets.get(name);
    if (!target) continue;
    const count = target.shape.reduce((a, b) => a * b, 1);
    values.set(name, { shape: [...target.shape], data: Float32Array.from(await source.toArray()).subarray(0, count) });
  }
  const missing = [...targets.keys()].filter((name) => !values.has(name));
  if (missing.length > 0) throw new Error(`Cannot start the text tower from the text encoder: no ${missing.join(", ")}`);
  model.loadStateDict(values, { strict: false });
}
