/**
 * `StableDiffusionPipeline`: text-to-image with Stable Diffusion 1.x on `@spo/wgpu-tensor` —
 * A1111 prompt encoding, Philox initial noise per image seed, classifier-free guidance with the
 * unconditional and conditional halves in one UNet batch, a named sampler, VAE decoding.
 *
 * @module
 */

import type { CLIPTextModel, CLIPTokenizer } from "@spo/clip";
import { classifierFreeGuidance, type UNet2DConditionModel } from "@spo/diffusion-unet";
import { type AutoencoderKL, decodeWithinLimit, type TAESD, type TAESDDecoder } from "@spo/vae";
import type { LoraLoadReport } from "@spo/lora";
import {
  add,
  assertFinite,
  concat,
  div,
  type HostOffload,
  mul,
  narrow,
  noGrad,
  offloadToHost,
  RandomGenerator,
  randn,
  type Tensor,
  tidy,
} from "@spo/wgpu-tensor";
import { encodePrompts, tokenizePrompts } from "../encoding/prompt_encoder.ts";
import type { LoraTag } from "../prompt/lora_tags.ts";
import { applyPromptLoras, type LoraResolver } from "./prompt_loras.ts";
import { type RgbaImage, tensorToRgba } from "./images.ts";
import { createScheduler, type SchedulerName } from "./scheduler_factory.ts";

/** The loaded parts of a Stable Diffusion model. */
export interface StableDiffusionComponents {
  tokenizer: CLIPTokenizer;
  textEncoder: CLIPTextModel;
  unet: UNet2DConditionModel;
  /** null for a pixel-space model (no VAE in model_index.json): the UNet's samples are the images, in [−1, 1]. */
  vae: AutoencoderKL | null;
  /** The folder's `scheduler/scheduler_config.json` object. */
  schedulerConfig: Record<string, unknown>;
  /** Optional tiny decoder for live previews. */
  taesd?: TAESD | TAESDDecoder;
}

/** What the per-step callback receives. */
export interface StepInfo {
  /** 1-based step number and the step count. */
  step: number;
  steps: number;
  timestep: number;
  /** The latents after this step [B, 4, h, w] (valid during the callback only). */
  latents: Tensor;
  /** The TAESD preview of these latents (throws when the pipeline has no TAESD). */
  preview(): Promise<RgbaImage[]>;
}

/** Options of {@link StableDiffusionPipeline.generate}. */
export interface GenerateOptions {
  prompt: string;
  negativePrompt?: string;
  /** Sampling steps, diffusers' `num_inference_steps` (default 20). */
  numInferenceSteps?: number;
  /** Classifier-free guidance scale, diffusers' `guidance_scale` (default 7.5; ≤ 1 runs the conditional branch only). */
  guidanceScale?: number;
  /** Seed of image 0; image i uses seed + i (A1111's batch seeds). Default 0. */
  seed?: number;
  /** Multiples of 8 and of the VAE's scale factor (default: the UNet's sample size × that factor). */
  width?: number;
  height?: number;
  /** Images per call, diffusers' `num_images_per_prompt` (default 1). */
  numImagesPerPrompt?: number;
  /** Sampler (default "ddim"). */
  scheduler?: SchedulerName;
  /** diffusers' `clip_skip` (A1111 "Clip skip N" is N − 1). */
  clipSkip?: number;
  /**
   * Finds the LoRA of each `<lora:name:te:unet>` tag of the prompt, which is then attached to the
   * text encoder and UNet with the tag's multipliers for this call only (A1111's behaviour; tags
   * in the negative prompt are removed from its text but not applied, as in the webui). Without
   * it, tags are only removed from the text and reported in the result.
   */
  loras?: LoraResolver;
  /** Called once with the `<lora:…>` tags of the prompt and negative prompt before the text is encoded. */
  onLoraTags?: (tags: { prompt: LoraTag[]; negativePrompt: LoraTag[] }) => void | Promise<void>;
  /** Called once the prompt's LoRAs are attached, with each one's load report by tag name. */
  onLoraReports?: (reports: ReadonlyMap<string, LoraLoadReport>) => void | Promise<void>;
  /** Called after every step (awaited). */
  onStep?: (info: StepInfo) => void | Promise<void>;
}

/** The images and the settings that made them. */
export interface GenerateResult {
  images: RgbaImage[];
  seeds: number[];
  loraTags: LoraTag[];
  /** A1111's token count of the prompt. */
  tokenCount: number;
}

/**
 * Stable Diffusion 1.x text-to-image. Build it from loaded components, or in Node with
 * `loadStableDiffusionPipeline(folder)` from `@spo/pipeline/node`.
 *
 * @example
 * ```ts
 * const pipe = await loadStableDiffusionPipeline("/models/stable-diffusion-v1-5");
 * const { images } = await pipe.generate({ prompt: "a (red:1.2) fox", numInferenceSteps: 20, guidanceScale: 7, seed: 42 });
 * images[0].data; // Uint8ClampedArray, 512·512·4
 * ```
 */
export class StableDiffusionPipeline {
  readonly components: StableDiffusionComponents;
  /** The text encoder's and VAE's weights in host memory, after {@link enableLowMemory}. */
  #offloads: { textEncoder: HostOffload; vae: HostOffload | null } | null = null;

  constructor(components: StableDiffusionComponents) {
    this.components = components;
  }

  /**
   * Low-memory mode (in the spirit of diffusers' `enable_model_cpu_offload`): the text encoder's
   * and the VAE's weights move to host memory now, and each `generate()` puts the text encoder on
   * the GPU only to encode the prompts and the VAE only to decode, freeing each right after (and
   * trimming the buffer pool). The UNet stays. Images are identical; the price is two uploads per
   * call (0.39 GiB for SD1.5 in f16). While it is on, `components.textEncoder` and `components.vae`
   * hold shape-only weights between calls. `loadStableDiffusionPipeline(…, { lowMemory: true })`
   * turns it on while loading, so the three models are never on the GPU together.
   */
  async enableLowMemory(): Promise<void> {
    const { textEncoder, vae } = this.components;
    this.#offloads = { textEncoder: await offloadToHost(textEncoder), vae: vae ? await offloadToHost(vae) : null };
    this.#device.pool.trim();
  }

  /** The models' device, which need not be the default one. */
  get #device() {
    return this.components.unet.conv_in.weight.device;
  }

  /** Whether {@link enableLowMemory} is on. */
  get isLowMemory(): boolean {
    return this.#offloads !== null;
  }

  /** Runs text-to-image; see {@link GenerateOptions}. */
  async generate(options: GenerateOptions): Promise<GenerateResult> {
    const { tokenizer, textEncoder, unet, vae, schedulerConfig } = this.components;
    checkOptionNames(options);
    const steps = options.numInferenceSteps ?? 20;
    const guidanceScale = options.guidanceScale ?? 7.5;
    const seed = options.seed ?? 0;
    const batch = options.numImagesPerPrompt ?? 1;
    const factor = vaeScaleFactor(vae);
    const width = options.width ?? unet.config.sampleSize * factor;
    const height = options.height ?? unet.config.sampleSize * factor;
    checkGenerateOptions(steps, seed, batch, width, height);
    checkGuidance(guidanceScale);
    checkClipSkip(options.clipSkip, textEncoder.config.numHiddenLayers);
    if (width % factor !== 0 || height % factor !== 0)
      throw new RangeError(`Cannot generate ${width}×${height} images: the VAE needs multiples of ${factor}`);
    const scheduler = createScheduler(options.scheduler ?? "ddim", schedulerConfig);
    scheduler.setTimesteps(steps);

    const prompts = new Array<string>(batch).fill(options.prompt);
    const negatives = new Array<string>(batch).fill(options.negativePrompt ?? "");
    const positive = tokenizePrompts(tokenizer, prompts);
    const negative = tokenizePrompts(tokenizer, negatives);
    await options.onLoraTags?.({ prompt: positive.loraTags[0]!, negativePrompt: negative.loraTags[0]! });
    const loras = options.loras
      ? await applyPromptLoras({ unet, text_encoder: textEncoder }, positive.loraTags[0]!, options.loras)
      : undefined;
    try {
      if (loras) await options.onLoraReports?.(loras.reports);
      return await this.#sample(options, {
        positive,
        negative,
        prompts,
        negatives,
        steps,
        guidanceScale,
        seed,
        batch,
        width,
        height,
        scheduler,
      });
    } finally {
      loras?.remove();
      scheduler.dispose?.();
    }
  }

  async #sample(options: GenerateOptions, plan: SamplingPlan): Promise<GenerateResult> {
    const { tokenizer, textEncoder, unet, vae } = this.components;
    const { positive, negative, prompts, negatives, steps, guidanceScale, seed, batch, width, height, scheduler } = plan;
    // the models' device, which need not be the default one
    const device = unet.conv_in.weight.device;
    const chunkCount = Math.max(positive.chunks.length, negative.chunks.length);
    const useCfg = guidanceScale > 1;
    const context = await this.#whileOnDevice(this.#offloads?.textEncoder, async () => {
      const encoded = inference(() => {
        const encode = (texts: string[]) =>
          encodePrompts(textEncoder, tokenizer, texts, { minChunks: chunkCount, clipSkip: options.clipSkip, device }).context;
        return useCfg ? concat([encode(negatives), encode(prompts)], 0) : encode(prompts);
      });
      try {
        // a NaN here (a text-encoder LoRA with NaN weights, say) would make every pixel black
        await assertFinite(encoded, "the prompt embeddings (text encoder output)");
      } catch (error) {
        encoded.dispose();
        throw error;
      }
      return encoded;
    });

    const seeds = Array.from({ length: batch }, (_, i) => seed + i);
    const factor = vaeScaleFactor(vae);
    const latentShape = [1, unet.config.inChannels, height / factor, width / factor];
    let latents = inference(() => {
      const noise = seeds.map((s) => randn(latentShape, { seed: s, device }));
      return mul(noise.length === 1 ? noise[0]! : concat(noise, 0), scheduler.initNoiseSigma);
    });
    // ancestral noise: the same Philox stream as image 0's seed, past the blocks of the initial noise
    const noiseBlocks = Math.ceil((latentShape.reduce((a, b) => a * b, 1) * batch) / 4);
    const generator = new RandomGenerator(seed, { offset: noiseBlocks, device });
    try {
      for (const [index, timestep] of scheduler.timesteps.entries()) {
        const next = inference(() => {
          const scaled = scheduler.scaleModelInput(latents, timestep);
          const input = useCfg ? concat([scaled, scaled], 0) : scaled;
          const eps = unet.forward(input, timestep, context);
          const guided = useCfg ? classifierFreeGuidance(narrow(eps, 0, 0, batch), narrow(eps, 0, batch, batch), guidanceScale) : eps;
          const out = scheduler.step(guided, timestep, latents, { generator });
          return out.prevSample;
        });
        latents.dispose();
        latents = next;
        if (options.onStep) {
          const current = latents;
          await options.onStep({
            step: index + 1,
            steps,
            timestep,
            latents: current,
            preview: () => this.preview(current),
          });
        }
      }
      // one check decides for the whole loop: a NaN or Inf anywhere in sampling reaches these
      await assertFinite(latents, `the final latents (after ${steps} ${options.scheduler ?? "ddim"} steps at guidance ${guidanceScale})`);
      // one image at a time, and in tiles, where a whole decode would exceed one storage binding
      // (SD's 512×512 decode needs 256 MiB; CPU adapters bind 128 MiB); pixel space: nothing to decode
      const images = await this.#whileOnDevice(this.#offloads?.vae ?? undefined, async () => {
        const decoded = vae
          ? inference(() => {
              const { scalingFactor, shiftFactor } = vae.config;
              return decodeWithinLimit(
                vae,
                shiftFactor ? add(div(latents, scalingFactor), shiftFactor) : div(latents, scalingFactor),
                latents.device.maxBindingBytes,
              );
            })
          : latents;
        try {
          return await tensorToRgba(decoded);
        } finally {
          if (decoded !== latents) decoded.dispose();
        }
      });
      return { images, seeds, loraTags: positive.loraTags[0]!, tokenCount: positive.tokenCounts[0]! };
    } finally {
      latents.dispose();
      context.dispose();
    }
  }

  /** Runs `fn` with offloaded weights on the GPU, then frees them again (and the pool's spare buffers). */
  async #whileOnDevice<T>(offload: HostOffload | undefined, fn: () => Promise<T>): Promise<T> {
    if (!offload) return await fn();
    offload.upload();
    try {
      return await fn();
    } finally {
      offload.release();
      await this.#device.sync();
      this.#device.pool.trim();
    }
  }

  /** TAESD's RGB preview of latents [B, 4, h, w] (in the UNet's latent space). */
  async preview(latents: Tensor): Promise<RgbaImage[]> {
    const taesd = this.components.taesd;
    if (!taesd) throw new Error("Cannot preview: the pipeline has no TAESD decoder (components.taesd)");
    const rgb = inference(() => ("decoder" in taesd ? taesd.decode(latents) : taesd.forward(latents)));
    try {
      return await tensorToRgba(rgb, 1, 0);
    } finally {
      rgb.dispose();
    }
  }

  /** Frees every model's weights. */
  dispose(): void {
    const { textEncoder, unet, vae, taesd } = this.components;
    textEncoder.dispose();
    unet.dispose();
    vae?.dispose();
    taesd?.dispose();
  }
}

/** How many pixels one latent position spans: 2^(VAE levels − 1), 1 in pixel space. */
function vaeScaleFactor(vae: AutoencoderKL | null): number {
  return vae ? 2 ** (vae.config.blockOutChannels.length - 1) : 1;
}

/**
 * Runs GPU work of inference: no autograd graph (which would keep every intermediate alive through
 * the tensors it saves for backward, whether or not the weights are frozen) and every tensor made
 * inside freed except the result.
 */
function inference<T>(fn: () => T): T {
  return noGrad(() => tidy(fn));
}

/** What `generate` settles before sampling. */
interface SamplingPlan {
  positive: ReturnType<typeof tokenizePrompts>;
  negative: ReturnType<typeof tokenizePrompts>;
  prompts: string[];
  negatives: string[];
  steps: number;
  guidanceScale: number;
  seed: number;
  batch: number;
  width: number;
  height: number;
  scheduler: ReturnType<typeof createScheduler>;
}

/** Option names generate() had before it took diffusers' names: refused by name, as ignoring one would change the image silently. */
const RENAMED_OPTIONS: Readonly<Record<string, keyof GenerateOptions>> = {
  steps: "numInferenceSteps",
  cfgScale: "guidanceScale",
  batchSize: "numImagesPerPrompt",
};

function checkOptionNames(options: GenerateOptions): void {
  for (const [old, current] of Object.entries(RENAMED_OPTIONS)) {
    if (old in options) throw new TypeError(`Cannot generate with option "${old}": it is called "${current}" (diffusers' name)`);
  }
}

function checkGuidance(guidanceScale: number): void {
  if (typeof guidanceScale !== "number" || !Number.isFinite(guidanceScale))
    throw new RangeError(`Cannot generate with guidanceScale ${guidanceScale}: it must be a finite number`);
}

function checkClipSkip(clipSkip: number | undefined, layerCount: number): void {
  if (clipSkip === undefined) return;
  if (!Number.isInteger(clipSkip) || clipSkip < 0 || clipSkip >= layerCount) {
    throw new RangeError(
      `Cannot generate with clipSkip ${clipSkip}: it must be an integer from 0 to ${layerCount - 1} (the text encoder has ${layerCount} layers)`,
    );
  }
}

function checkGenerateOptions(steps: number, seed: number, batch: number, width: number, height: number): void {
  if (!Number.isInteger(steps) || steps < 1)
    throw new RangeError(`Cannot generate with numInferenceSteps ${steps}: it must be an integer ≥ 1`);
  if (!Number.isInteger(seed) || seed < 0 || seed + batch - 1 > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(
      `Cannot generate with seed ${seed}: it must be an integer ≥ 0 with seed + numImagesPerPrompt − 1 at most 2^53 − 1`,
    );
  }
  if (!Number.isInteger(batch) || batch < 1)
    throw new RangeError(`Cannot generate with numImagesPerPrompt ${batch}: it must be an integer ≥ 1`);
  for (const [name, value] of [
    ["width", width],
    ["height", height],
  ] as const) {
    if (!Number.isInteger(value) || value < 8 || value % 8 !== 0)
      throw new RangeError(`Cannot generate with ${name} ${value}: it must be a positive multiple of 8`);
  }
}
