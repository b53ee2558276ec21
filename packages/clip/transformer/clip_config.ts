/** The activations CLIP configs name in `hidden_act` that this package implements. */
export type CLIPHiddenAct = "quick_gelu" | "gelu" | "gelu_new" | "gelu_pytorch_tanh";

const HIDDEN_ACTS: readonly string[] = ["quick_gelu", "gelu", "gelu_new", "gelu_pytorch_tanh"];

/** What every CLIP transformer tower (text or vision) is built from. */
export interface CLIPEncoderConfig {
  hiddenSize: number;
  intermediateSize: number;
  numAttentionHeads: number;
  numHiddenLayers: number;
  hiddenAct: CLIPHiddenAct;
  layerNormEps: number;
}

/** transformers' `CLIPTextConfig`, read once from a `config.json` (camelCase, checked). */
export interface CLIPTextConfig extends CLIPEncoderConfig {
  vocabSize: number;
  maxPositionEmbeddings: number;
  /**
   * Chooses the pooling rule like transformers: 2 (the stale value of SD1.5's config) pools at
   * the largest id of each row; any other value pools at the first position holding this id.
   */
  eosTokenId: number;
  /** Width of `text_projection` (CLIPTextModelWithProjection only). */
  projectionDim: number;
}

/** transformers' `CLIPVisionConfig`, read once from a `config.json` (camelCase, checked). */
export interface CLIPVisionConfig extends CLIPEncoderConfig {
  numChannels: number;
  imageSize: number;
  patchSize: number;
  /** Width of `visual_projection` (CLIPVisionModelWithProjection only). */
  projectionDim: number;
}

/**
 * A config field this package does not implement; the message names the field and its value.
 *
 * @example
 * ```ts
 * clipTextConfigFromTransformers({ hidden_act: "relu" }); // throws: hidden_act = "relu" is not supported (…)
 * ```
 */
export class UnsupportedConfigError extends Error {
  override name = "UnsupportedConfigError";
}

type Json = Record<string, unknown>;

// transformers' defaults (configuration_clip.py), used for fields a config.json leaves out
const TEXT_DEFAULTS = {
  vocab_size: 49408,
  hidden_size: 512,
  intermediate_size: 2048,
  projection_dim: 512,
  num_hidden_layers: 12,
  num_attention_heads: 8,
  max_position_embeddings: 77,
  hidden_act: "quick_gelu",
  layer_norm_eps: 1e-5,
  eos_token_id: 49407,
};
const VISION_DEFAULTS = {
  hidden_size: 768,
  intermediate_size: 3072,
  projection_dim: 512,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  num_channels: 3,
  image_size: 224,
  patch_size: 32,
  hidden_act: "quick_gelu",
  layer_norm_eps: 1e-5,
};

function field(json: Json, defaults: Json, name: string): unknown {
  return json[name] ?? defaults[name];
}

function positiveInteger(json: Json, defaults: Json, name: string, what: string): number {
  const value = field(json, defaults, name);
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new UnsupportedConfigError(`Cannot build ${what}: ${name} = ${JSON.stringify(value)}, it must be a positive integer`);
  }
  return value;
}

function encoderConfig(json: Json, defaults: Json, what: string): CLIPEncoderConfig {
  const hiddenSize = positiveInteger(json, defaults, "hidden_size", what);
  const numAttentionHeads = positiveInteger(json, defaults, "num_attention_heads", what);
  if (hiddenSize % numAttentionHeads !== 0) {
    throw new UnsupportedConfigError(
      `Cannot build ${what}: hidden_size ${hiddenSize} is not divisible by num_attention_heads ${numAttentionHeads}`,
    );
  }
  const hiddenAct = field(json, defaults, "hidden_act");
  if (typeof hiddenAct !== "string" || !HIDDEN_ACTS.includes(hiddenAct)) {
    throw new UnsupportedConfigError(
      `Cannot build ${what}: hidden_act = ${JSON.stringify(hiddenAct)} is not supported (supported: ${HIDDEN_ACTS.join(", ")})`,
    );
  }
  const layerNormEps = field(json, defaults, "layer_norm_eps");
  if (typeof layerNormEps !== "number" || !(layerNormEps > 0)) {
    throw new UnsupportedConfigError(
      `Cannot build ${what}: layer_norm_eps = ${JSON.stringify(layerNormEps)}, it must be a positive number`,
    );
  }
  return {
    hiddenSize,
    intermediateSize: positiveInteger(json, defaults, "intermediate_size", what),
    numAttentionHeads,
    numHiddenLayers: positiveInteger(json, defaults, "num_hidden_layers", what),
    hiddenAct: hiddenAct as CLIPHiddenAct,
    layerNormEps,
  };
}

/**
 * The tower's own config: a `CLIPConfig` (openai/clip-vit-*) nests it under `text_config` /
 * `vision_config`, and its top-level `projection_dim` is the one its projections use.
 */
function towerJson(json: Json, nested: string, modelTypes: readonly string[], what: string): Json {
  const inner = json[nested];
  const isNested = typeof inner === "object" && inner !== null;
  const tower = isNested ? { ...(inner as Json), projection_dim: json.projection_dim ?? (inner as Json).projection_dim } : json;
  const modelType = tower.model_type;
  if (modelType !== undefined && !modelTypes.includes(modelType as string)) {
    throw new UnsupportedConfigError(
      `Cannot build ${what}: model_type = ${JSON.stringify(modelType)} is not supported (supported: ${modelTypes.join(", ")})`,
    );
  }
  return tower;
}

/**
 * Reads a transformers `CLIPTextConfig` (`text_encoder/config.json` of a diffusers folder) or a
 * `CLIPConfig` (its `text_config`), filling transformers' defaults and rejecting by name what is
 * not implemented. SD1.5's file says `eos_token_id: 2` (a stale value): kept, because transformers
 * reads it as "pool at the largest id", which is what SD1.5 checkpoints were trained with.
 *
 * @example
 * ```ts
 * const config = clipTextConfigFromTransformers({ hidden_size: 768, intermediate_size: 3072,
 *   num_attention_heads: 12, num_hidden_layers: 12, eos_token_id: 2 });
 * config.hiddenAct; // "quick_gelu"
 * ```
 */
export function clipTextConfigFromTransformers(json: Json): CLIPTextConfig {
  const what = "CLIPTextModel";
  const tower = towerJson(json, "text_config", ["clip_text_model", "clip"], what);
  const eosTokenId = field(tower, TEXT_DEFAULTS, "eos_token_id");
  if (typeof eosTokenId !== "number" || !Number.isInteger(eosTokenId)) {
    throw new UnsupportedConfigError(`Cannot build ${what}: eos_token_id = ${JSON.stringify(eosTokenId)}, it must be an integer`);
  }
  return {
    ...encoderConfig(tower, TEXT_DEFAULTS, what),
    vocabSize: positiveInteger(tower, TEXT_DEFAULTS, "vocab_size", what),
    maxPositionEmbeddings: positiveInteger(tower, TEXT_DEFAULTS, "max_position_embeddings", what),
    eosTokenId,
    projectionDim: positiveInteger(tower, TEXT_DEFAULTS, "projection_dim", what),
  };
}

/**
 * Reads a transformers `CLIPVisionConfig` or a `CLIPConfig` (its `vision_config`), filling
 * transformers' defaults and rejecting by name what is not implemented.
 *
 * @example
 * ```ts
 * const config = clipVisionConfigFromTransformers({ hidden_size: 1024, intermediate_size: 4096,
 *   num_attention_heads: 16, num_hidden_layers: 24, image_size: 224, patch_size: 14, projection_dim: 768 });
 * config.imageSize / config.patchSize; // 16 patches per side
 * ```
 */
export function clipVisionConfigFromTransformers(json: Json): CLIPVisionConfig {
  const what = "CLIPVisionModel";
  const tower = towerJson(json, "vision_config", ["clip_vision_model", "clip"], what);
  const imageSize = positiveInteger(tower, VISION_DEFAULTS, "image_size", what);
  const patchSize = positiveInteger(tower, VISION_DEFAULTS, "patch_size", what);
  if (imageSize % patchSize !== 0) {
    throw new UnsupportedConfigError(`Cannot build ${what}: image_size ${imageSize} is not a multiple of patch_size ${patchSize}`);
  }
  return {
    ...encoderConfig(tower, VISION_DEFAULTS, what),
    numChannels: positiveInteger(tower, VISION_DEFAULTS, "num_channels", what),
    imageSize,
    patchSize,
    projectionDim: positiveInteger(tower, VISION_DEFAULTS, "projection_dim", what),
  };
}

/**
 * SD1.x's `text_encoder/config.json` (runwayml/stable-diffusion-v1-5: OpenAI CLIP ViT-L/14's text
 * tower), for checkpoints that come without one (single-file A1111 checkpoints).
 */
export const SD15_TEXT_ENCODER_CONFIG: Readonly<Record<string, unknown>> = Object.freeze({
  architectures: ["CLIPTextModel"],
  model_type: "clip_text_model",
  vocab_size: 49408,
  hidden_size: 768,
  intermediate_size: 3072,
  projection_dim: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  max_position_embeddings: 77,
  hidden_act: "quick_gelu",
  layer_norm_eps: 1e-5,
  bos_token_id: 0,
  eos_token_id: 2,
  pad_token_id: 1,
});
