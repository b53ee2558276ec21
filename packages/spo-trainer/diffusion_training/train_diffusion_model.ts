/**
 * Fine-tuning (or training from scratch) a text-conditioned diffusion model on image–caption pairs,
 * the way diffusers' `train_text_to_image.py` does: ε-prediction MSE at uniformly drawn timesteps,
 * captions dropped to "" with some probability so the model also learns the unconditional ε that
 * classifier-free guidance needs, AdamW, an optional LR schedule and gradient clipping.
 */
import { addNoiseVp, type NoiseSchedule, type UNet2DConditionModel, velocityVp } from "@spo/diffusion-unet";
import {
  AdamW,
  backward,
  clipGradNorm,
  constantSchedule,
  type Device,
  type LrSchedule,
  mean,
  mul,
  noGrad,
  RandomGenerator,
  sub,
  type Tensor,
  tensor,
  tidy,
} from "@spo/wgpu-tensor";

/** The text side: a tokenizer giving 77 ids per caption and a CLIP-style text encoder. */
export interface CaptionEncoder {
  tokenizer: { encode(text: string): number[] };
  textEncoder: {
    forward(ids: Tensor): { lastHiddenState: Tensor };
    parameters(): Iterable<Tensor>;
    requiresGrad_(value: boolean): unknown;
  };
}

/** One training batch: images (or latents) [B, C, H, W] as host floats, and one caption per image. */
export interface DiffusionBatch {
  samples: Float32Array;
  captions: string[];
}

/** What `onProgress` receives after every step. */
export interface DiffusionTrainingProgress {
  /** Steps done (1 after the first). */
  step: number;
  steps: number;
  /** This step's ε-MSE (read back from the GPU every `lossEvery` steps, else NaN). */
  loss: number;
  lr: number;
  elapsedMs: number;
}

/** Options of `trainDiffusionModel`. */
export interface TrainDiffusionOptions extends CaptionEncoder {
  unet: UNet2DConditionModel;
  /** The forward process (e.g. `scheduler.schedule` of a DDPMScheduler or DDIMScheduler). */
  noiseSchedule: NoiseSchedule;
  /** Returns batch number `index` (0-based; a resumed run continues the count). */
  data: (index: number, batchSize: number) => DiffusionBatch | Promise<DiffusionBatch>;
  /** Shape of one sample [C, H, W] (checked against every batch before any GPU work). */
  sampleShape: [number, number, number];
  steps: number;
  batchSize: number;
  /** Base learning rate (default 1e-4). */
  learningRate?: number;
  /** LR per step index; default: constant with a warm-up of min(100, steps/10) steps. */
  lrSchedule?: LrSchedule;
  /** AdamW weight decay (default 1e-2, PyTorch's default). */
  weightDecay?: number;
  /**
   * What the UNet learns to output (diffusers' `prediction_type`, default "epsilon"): the noise ε,
   * the velocity v = √ᾱ_t·ε − √(1−ᾱ_t)·x₀ ("v_prediction"), or the clean sample x₀ ("sample").
   */
  predictionType?: "epsilon" | "v_prediction" | "sample";
  /** Probability of replacing a caption with "" (default 0.1). */
  promptDropout?: number;
  /** Train the text encoder as well (default false: it stays frozen). */
  trainTextEncoder?: boolean;
  /** Gradient-norm clip over all trained parameters (default 1; 0 disables). */
  maxGradNorm?: number;
  /** Seed of the noise, timesteps and dropout (default 0). */
  seed?: number;
  /** First step index, to resume (default 0); pass the optimizer you saved with it. */
  startStep?: number;
  /** An optimizer over exactly the trained parameters, e.g. restored from a checkpoint. */
  optimizer?: AdamW;
  /** Read the loss back every this many steps (default 1; readback waits for the GPU). */
  lossEvery?: number;
  onProgress?: (progress: DiffusionTrainingProgress) => void | Promise<void>;
  /** Called after every `checkpointEvery` steps and after the last one. */
  onCheckpoint?: (step: number, optimizer: AdamW) => void | Promise<void>;
  checkpointEvery?: number;
  device?: Device;
}

/** What `trainDiffusionModel` returns. */
export interface DiffusionTrainingResult {
  /** The loss of every step that read it back (NaN for the others). */
  losses: number[];
  optimizer: AdamW;
  elapsedMs: number;
}

/** Invalid options or batches, refused before any GPU work. */
export class DiffusionTrainingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DiffusionTrainingError";
  }
}

/**
 * Trains `unet` (and, if asked, the text encoder) to predict the noise ε added to clean samples
 * (or v, or x₀: `predictionType`): per step, draw t ~ U{0, …, T−1} and ε ~ N(0, I) per sample, form
 * x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε, replace each caption with "" with probability `promptDropout`, and
 * minimise mean((ε_θ(x_t, t, c) − ε)²) (the MSE to the chosen target) with AdamW. Seeded: the same seed, data and adapter give the same
 * weights.
 *
 * @example
 * ```ts
 * const { losses } = await trainDiffusionModel({
 *   unet, textEncoder, tokenizer, noiseSchedule: DDPMScheduler.fromConfig(config).schedule,
 *   sampleShape: [3, 16, 16], steps: 1000, batchSize: 32, learningRate: 1e-3, trainTextEncoder: true,
 *   data: (i, b) => myBatch(i, b), onProgress: ({ step, loss }) => console.log(step, loss),
 * });
 * ```
 */
export async function trainDiffusionModel(options: TrainDiffusionOptions): Promise<DiffusionTrainingResult> {
  const {
    unet,
    textEncoder,
    tokenizer,
    noiseSchedule,
    data,
    sampleShape,
    steps,
    batchSize,
    learningRate = 1e-4,
    weightDecay = 1e-2,
    promptDropout = 0.1,
    trainTextEncoder = false,
    maxGradNorm = 1,
    seed = 0,
    startStep = 0,
    lossEvery = 1,
    checkpointEvery = 0,
    onProgress,
    onCheckpoint,
    device,
    predictionType = "epsilon",
  } = options;
  checkOptions(options);
  const lrSchedule = options.lrSchedule ?? constantSchedule(learningRate, Math.min(100, Math.floor(steps / 10)));
  textEncoder.requiresGrad_(trainTextEncoder);
  const parameters = [...unet.parameters(), ...(trainTextEncoder ? textEncoder.parameters() : [])];
  const optimizer = options.optimizer ?? new AdamW(parameters, { lr: learningRate, weightDecay });
  if (optimizer.params.length !== parameters.length) {
    throw new DiffusionTrainingError(
      `Cannot train the diffusion model: the optimizer holds ${optimizer.params.length} parameters, the trained modules ${parameters.length}`,
    );
  }
  const [channels, height, width] = sampleShape;
  const perSample = channels * height * width;
  const T = noiseSchedule.numTrainTimesteps;
  const losses: number[] = [];
  const started = performance.now();
  unet.train();
  for (let step = startStep; step < steps; step++) {
    const batch = await data(step, batchSize);
    if (batch.captions.length !== batchSize || batch.samples.length !== batchSize * perSample) {
      throw new DiffusionTrainingError(
        `Cannot train on batch ${step}: expected ${batchSize} captions and ${batchSize}×${channels}×${height}×${width} = ${batchSize * perSample} values, got ${batch.captions.length} captions and ${batch.samples.length} values`,
      );
    }
    // One random stream per step (host draws and GPU noise), so a resumed run draws what the
    // uninterrupted one would.
    const host = hostUniforms(seed, step, 2 * batchSize);
    const timesteps = Array.from({ length: batchSize }, (_, i) => Math.min(T - 1, Math.floor(host[i]! * T)));
    const captions = batch.captions.map((c, i) => (host[batchSize + i]! < promptDropout ? "" : c));
    const generator = new RandomGenerator(seed * 1_000_003 + step, { device });
    const ids = Int32Array.from(captions.flatMap((c) => tokenizer.encode(c)));
    const length = ids.length / batchSize;
    optimizer.lr = lrSchedule(step);
    const lossTensor = tidy(() => {
      const x0 = tensor(batch.samples, [batchSize, channels, height, width], { device });
      const noise = generator.randn([batchSize, channels, height, width]);
      const noisy = noGrad(() => addNoiseVp(noiseSchedule, x0, noise, timesteps));
      const context = textEncoder.forward(tensor(ids, [batchSize, length], { dtype: "i32", device })).lastHiddenState;
      const target =
        predictionType === "epsilon"
          ? noise
          : predictionType === "sample"
            ? x0
            : noGrad(() => velocityVp(noiseSchedule, x0, noise, timesteps));
      const diff = sub(unet.forward(noisy, timesteps, context), target);
      const loss = mean(mul(diff, diff));
      backward(loss);
      if (maxGradNorm > 0) clipGradNorm(parameters, maxGradNorm);
      optimizer.step();
      optimizer.zeroGrad();
      return loss;
    });
    const done = step + 1;
    const loss = (done - startStep) % lossEvery === 0 || done === steps ? await lossTensor.item() : Number.NaN;
    lossTensor.dispose();
    losses.push(loss);
    await onProgress?.({ step: done, steps, loss, lr: optimizer.lr, elapsedMs: performance.now() - started });
    if (onCheckpoint && ((checkpointEvery > 0 && done % checkpointEvery === 0) || done === steps)) await onCheckpoint(done, optimizer);
  }
  return { losses, optimizer, elapsedMs: performance.now() - started };
}

function checkOptions(options: TrainDiffusionOptions): void {
  const { steps, batchSize, sampleShape, promptDropout = 0.1, startStep = 0, lossEvery = 1 } = options;
  const fail = (what: string) => {
    throw new DiffusionTrainingError(`Cannot train the diffusion model: ${what}`);
  };
  if (!Number.isInteger(steps) || steps < 1) fail(`steps must be a positive integer, got ${steps}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) fail(`batchSize must be a positive integer, got ${batchSize}`);
  if (!Number.isInteger(startStep) || startStep < 0 || startStep > steps)
    fail(`startStep must be an integer in [0, steps], got ${startStep}`);
  if (!Number.isInteger(lossEvery) || lossEvery < 1) fail(`lossEvery must be a positive integer, got ${lossEvery}`);
  if (!["epsilon", "v_prediction", "sample"].includes(options.predictionType ?? "epsilon"))
    fail(`predictionType must be "epsilon", "v_prediction" or "sample", got ${JSON.stringify(options.predictionType)}`);
  if (!(promptDropout >= 0 && promptDropout <= 1)) fail(`promptDropout must be in [0, 1], got ${promptDropout}`);
  if (sampleShape.length !== 3 || !sampleShape.every((d) => Number.isInteger(d) && d > 0))
    fail(`sampleShape must be [C, H, W] of positive integers, got [${sampleShape.join(", ")}]`);
  const config = options.unet.config;
  if (sampleShape[0] !== config.inChannels) fail(`samples have ${sampleShape[0]} channels, the UNet takes ${config.inChannels}`);
}

/** `count` uniforms in [0, 1) of the stream (seed, step): SplitMix32 over a hashed start. */
function hostUniforms(seed: number, step: number, count: number): Float64Array {
  let state = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(step + 1, 0x85ebca77)) >>> 0;
  return Float64Array.from({ length: count }, () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  });
}
