import { CLIPTextTransformer, CLIPVisionTransformer } from "@spo/clip";
import {
  constantParameter,
  div,
  exp,
  type LayerOptions,
  Linear,
  matmul,
  Module,
  mul,
  sqrt,
  sum,
  type Tensor,
  tidy,
  transpose,
  withInitStream,
} from "@spo/wgpu-tensor";
import { type SpmConfigOptions, stepPreferenceConfigFromTransformers, type StepPreferenceModelConfig } from "./spm_config.ts";
import { TimeConditionedVisionTransformer } from "./time_conditioned_vision.ts";
import { TimestepEmbedder } from "./timestep_embedder.ts";
import { checkTimesteps } from "./_checks.ts";

/** What the vision side returns (the caller disposes the tensors). */
export interface SpmImageOutput {
  /** [B, 1 + patches, D]: the encoder output (before post_layernorm). */
  lastHiddenState: Tensor;
  /** [B, D]: post_layernorm(CLS), time-modulated in the step-aware model. */
  pooledOutput: Tensor;
  /** [B, projection]: `visual_projection(pooledOutput)` (not normalised). */
  imageEmbeds: Tensor;
  /** [B, D]: the time embedding (absent in the step-agnostic model). */
  timeEmbedding?: Tensor;
}

/** What `forward` returns: CLIP's logit matrices and the embeddings. */
export interface SpmForwardOutput {
  /** [B_images, B_texts]: exp(logit_scale)·cos(image_i, text_j). */
  logitsPerImage: Tensor;
  /** [B_texts, B_images]. */
  logitsPerText: Tensor;
  imageEmbeds: Tensor;
  textEmbeds: Tensor;
}

/** x / ‖x‖ over the last axis (torch `x / x.norm(dim=-1, keepdim=True)`). */
function normalize(x: Tensor): Tensor {
  return div(x, sqrt(sum(mul(x, x), [-1], { keepDim: true })));
}

/**
 * SPO's step-aware preference model (`HFTimeConditionedCLIPModel`): a CLIP model whose vision tower
 * is conditioned on the diffusion timestep (DiT-style adaLN in every layer and on the pooled output,
 * `t_embedder`). It scores a predicted clean image x̂0 at timestep t against a prompt,
 * PickScore-style: s = exp(logit_scale)·cos(image, text). With `isTimeConditioned: false` it is
 * the step-agnostic scorer (plain CLIP; timesteps are ignored). Parameter names are the
 * checkpoint's (`vision_model.encoder.layers.0.adaLN_modulation.1.weight`, `t_embedder.mlp.0.weight`,
 * `text_model.*`, `logit_scale`, …).
 *
 * @example
 * ```ts
 * const model = StepPreferenceModel.fromConfig(VIT_H_14_CONFIG, { init: "meta" }); // 1.31 B parameters
 * const scores = model.pairScores(pixelValues, ids, [951, 501]); // [2]
 * ```
 */
export class StepPreferenceModel extends Module {
  readonly config: StepPreferenceModelConfig;
  readonly text_model: CLIPTextTransformer;
  readonly vision_model: CLIPVisionTransformer;
  readonly visual_projection: Linear;
  readonly text_projection: Linear;
  readonly logit_scale: Tensor;
  readonly t_embedder: TimestepEmbedder | null;

  constructor(config: StepPreferenceModelConfig, given: LayerOptions = {}) {
    super();
    const options = withInitStream(given); // a seeded build's weights depend on its seed alone
    this.config = config;
    const { text, vision, projectionDim } = config;
    this.text_model = this.registerModule("text_model", new CLIPTextTransformer(text, options));
    this.vision_model = this.registerModule(
      "vision_model",
      config.isTimeConditioned ? new TimeConditionedVisionTransformer(vision, options) : new CLIPVisionTransformer(vision, options),
    );
    this.visual_projection = this.registerModule(
      "visual_projection",
      new Linear(vision.hiddenSize, projectionDim, { ...options, bias: false }),
    );
    this.text_projection = this.registerModule("text_projection", new Linear(text.hiddenSize, projectionDim, { ...options, bias: false }));
    this.logit_scale = this.registerParameter(
      "logit_scale",
      constantParameter([], config.logitScaleInitValue, { ...options, init: options.init === "meta" ? "meta" : "default" }),
    );
    this.t_embedder = config.isTimeConditioned
      ? this.registerModule("t_embedder", new TimestepEmbedder(vision.hiddenSize, config.frequencyEmbeddingSize, options))
      : null;
  }

  /** Builds the model from a transformers `CLIPConfig` object (PickScore's / ViT-H/14's `config.json`). */
  static fromConfig(json: Record<string, unknown>, options: LayerOptions & SpmConfigOptions = {}): StepPreferenceModel {
    const layer: LayerOptions = { init: options.init, device: options.device, dtype: options.dtype, seed: options.seed };
    return new StepPreferenceModel(stepPreferenceConfigFromTransformers(json, options), layer);
  }

  get isTimeConditioned(): boolean {
    return this.config.isTimeConditioned;
  }

  /** [B, D]: t_embedder(timesteps). Throws for the step-agnostic model. */
  timeEmbedding(timesteps: readonly number[]): Tensor {
    if (!this.t_embedder) throw new TypeError("Cannot embed timesteps: this step-agnostic model has no t_embedder");
    checkTimesteps(timesteps, timesteps.length);
    return this.t_embedder.forward(timesteps);
  }

  /**
   * The vision side on normalised pixel values [B, C, S, S] at `timesteps` (B raw diffusion steps,
   * 0…999; ignored by the step-agnostic model): hidden states, pooled output, image embeddings.
   */
  encodeImages(pixelValues: Tensor, timesteps: readonly number[]): SpmImageOutput {
    const batch = pixelValues.shape[0];
    if (this.isTimeConditioned) checkTimesteps(timesteps, batch);
    return tidy(() => {
      const timeEmbedding = this.t_embedder ? this.t_embedder.forward(timesteps) : undefined;
      const output = this.vision_model.forward(pixelValues, { conditioning: timeEmbedding });
      const imageEmbeds = this.visual_projection.forward(output.pooledOutput);
      const result: SpmImageOutput = { lastHiddenState: output.lastHiddenState, pooledOutput: output.pooledOutput, imageEmbeds };
      if (timeEmbedding) result.timeEmbedding = timeEmbedding;
      return result;
    });
  }

  /** transformers' `get_image_features`: [B, projection]. */
  getImageFeatures(pixelValues: Tensor, timesteps: readonly number[]): Tensor {
    return tidy(() => this.encodeImages(pixelValues, timesteps).imageEmbeds);
  }

  /** transformers' `get_text_features`: i32 ids [B, L] → [B, projection]. */
  getTextFeatures(ids: Tensor): Tensor {
    return tidy(() => this.text_projection.forward(this.text_model.forward(ids).pooledOutput));
  }

  /** CLIP's forward: every image against every text. */
  forward(pixelValues: Tensor, ids: Tensor, timesteps: readonly number[]): SpmForwardOutput {
    return tidy(() => {
      const imageEmbeds = this.getImageFeatures(pixelValues, timesteps);
      const textEmbeds = this.getTextFeatures(ids);
      const logitsPerText = mul(matmul(normalize(textEmbeds), transpose(normalize(imageEmbeds), 0, 1)), exp(this.logit_scale));
      return { logitsPerImage: transpose(logitsPerText, 0, 1), logitsPerText, imageEmbeds, textEmbeds };
    });
  }

  /**
   * One score per (image, text, timestep) row, PickScore style: exp(logit_scale)·cos(imageᵢ, textᵢ)
   * ([B], the diagonal of `logitsPerImage`, ≈ 20 for PickScore). Differentiable (training uses it).
   */
  pairScores(pixelValues: Tensor, ids: Tensor, timesteps: readonly number[]): Tensor {
    return tidy(() => {
      const image = normalize(this.getImageFeatures(pixelValues, timesteps));
      const text = normalize(this.getTextFeatures(ids));
      return mul(sum(mul(image, text), [-1]), exp(this.logit_scale));
    });
  }
}
