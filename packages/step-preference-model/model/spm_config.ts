import {
  type CLIPTextConfig,
  clipTextConfigFromTransformers,
  type CLIPVisionConfig,
  clipVisionConfigFromTransformers,
  UnsupportedConfigError,
} from "@spo/clip";

/** The largest timestep of a 1000-step diffusion schedule (SPM timesteps are in [0, 999]). */
export const MAX_TIMESTEP = 999;

/** CLIP's pixel normalisation (OpenAI's mean and std, also used by OpenCLIP ViT-H/14 and PickScore). */
export const CLIP_IMAGE_MEAN: readonly [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_IMAGE_STD: readonly [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

/** The configuration of a step-aware preference model, read once from a transformers `CLIPConfig`. */
export interface StepPreferenceModelConfig {
  text: CLIPTextConfig;
  vision: CLIPVisionConfig;
  /** Width of both projections (the top-level `projection_dim` of a CLIPConfig). */
  projectionDim: number;
  /** The initial value of `logit_scale` (log of the temperature's inverse, 2.6592 = ln(1/0.07)). */
  logitScaleInitValue: number;
  /**
   * Whether the vision tower is time-conditioned (adaLN in every layer and on the pooled output,
   * `t_embedder`). False is the step-agnostic variant: a plain CLIP / PickScore model.
   */
  isTimeConditioned: boolean;
  /** Width of the sinusoidal timestep embedding (SPO: 256). */
  frequencyEmbeddingSize: number;
  /** Pixel normalisation applied by the scorer. */
  imageMean: readonly [number, number, number];
  imageStd: readonly [number, number, number];
}

/** Options of `stepPreferenceConfigFromTransformers`. */
export interface SpmConfigOptions {
  /** Default true (the step-aware model); false builds the step-agnostic scorer. */
  isTimeConditioned?: boolean;
  /** Default 256, as SPO's `t_embedder`. */
  frequencyEmbeddingSize?: number;
  imageMean?: readonly [number, number, number];
  imageStd?: readonly [number, number, number];
}

type Json = Record<string, unknown>;

/**
 * Reads a transformers `CLIPConfig` (`config.json` with `text_config` and `vision_config`, as
 * PickScore_v1 and laion/CLIP-ViT-H-14 ship it) into a step-aware preference model config.
 * Also accepts the SPO fixture layout `{ clip: CLIPConfig, img_size, image_mean, image_std,
 * t_embedder_frequency_embedding_size }`.
 *
 * @example
 * ```ts
 * const config = stepPreferenceConfigFromTransformers(VIT_H_14_CONFIG);
 * config.vision.hiddenSize; // 1280
 * ```
 */
export function stepPreferenceConfigFromTransformers(json: Json, options: SpmConfigOptions = {}): StepPreferenceModelConfig {
  const clip = (typeof json.clip === "object" && json.clip !== null ? json.clip : json) as Json;
  if (typeof clip.text_config !== "object" || typeof clip.vision_config !== "object") {
    throw new UnsupportedConfigError(
      `Cannot build a step-aware preference model: the config has no text_config and vision_config (model_type ${JSON.stringify(clip.model_type)}); a CLIPConfig is needed`,
    );
  }
  const text = clipTextConfigFromTransformers(clip);
  const vision = clipVisionConfigFromTransformers(clip);
  const projectionDim = vision.projectionDim;
  const logitScaleInitValue = typeof clip.logit_scale_init_value === "number" ? clip.logit_scale_init_value : 2.6592;
  const frequencyEmbeddingSize = options.frequencyEmbeddingSize ?? (json.t_embedder_frequency_embedding_size as number | undefined) ?? 256;
  if (!Number.isInteger(frequencyEmbeddingSize) || frequencyEmbeddingSize <= 0) {
    throw new UnsupportedConfigError(
      `Cannot build a step-aware preference model: frequency embedding size ${frequencyEmbeddingSize} must be a positive integer`,
    );
  }
  if (typeof json.img_size === "number" && json.img_size !== vision.imageSize) {
    throw new UnsupportedConfigError(
      `Cannot build a step-aware preference model: img_size ${json.img_size} differs from the vision tower's image_size ${vision.imageSize}`,
    );
  }
  return {
    text,
    vision,
    projectionDim,
    logitScaleInitValue,
    isTimeConditioned: options.isTimeConditioned ?? true,
    frequencyEmbeddingSize,
    imageMean: options.imageMean ?? triple(json.image_mean) ?? CLIP_IMAGE_MEAN,
    imageStd: options.imageStd ?? triple(json.image_std) ?? CLIP_IMAGE_STD,
  };
}

function triple(value: unknown): [number, number, number] | undefined {
  if (Array.isArray(value) && value.length === 3 && value.every((v) => typeof v === "number")) return value as [number, number, number];
  return undefined;
}

/**
 * The `config.json` of laion/CLIP-ViT-H-14-laion2B-s32B-b79K, which PickScore_v1 and SPO's
 * step-aware preference models share (the fields that matter; transformers' defaults fill the rest).
 * Vision: 32 layers of width 1280, patch 14 at 224 (257 tokens); text: 24 layers of width 1024;
 * projections to 1024; GELU (exact) in both towers.
 */
export const VIT_H_14_CONFIG: Readonly<Json> = Object.freeze({
  architectures: ["CLIPModel"],
  model_type: "clip",
  projection_dim: 1024,
  logit_scale_init_value: 2.6592,
  text_config: {
    model_type: "clip_text_model",
    vocab_size: 49408,
    hidden_size: 1024,
    intermediate_size: 4096,
    num_attention_heads: 16,
    num_hidden_layers: 24,
    max_position_embeddings: 77,
    hidden_act: "gelu",
    layer_norm_eps: 1e-5,
    projection_dim: 1024,
    bos_token_id: 0,
    pad_token_id: 1,
    eos_token_id: 2,
  },
  vision_config: {
    model_type: "clip_vision_model",
    hidden_size: 1280,
    intermediate_size: 5120,
    num_attention_heads: 16,
    num_hidden_layers: 32,
    image_size: 224,
    patch_size: 14,
    num_channels: 3,
    hidden_act: "gelu",
    layer_norm_eps: 1e-5,
    projection_dim: 1024,
  },
});
