import { type LayerOptions, LayerNorm, Linear, Module, narrow, reshape, type Tensor, tidy, withInitStream } from "@spo/wgpu-tensor";
import { type CLIPVisionConfig, clipVisionConfigFromTransformers } from "../transformer/clip_config.ts";
import { CLIPEncoder, type CLIPEncoderLayerFactory } from "../transformer/clip_encoder.ts";
import { CLIPVisionEmbeddings } from "./clip_vision_embeddings.ts";

/** Options of a vision-model forward pass. */
export interface CLIPVisionForwardOptions {
  /** Also return every hidden state: the pre-LayerNormed embeddings, then each layer's output. */
  outputHiddenStates?: boolean;
  /** Handed to every encoder layer (see `CLIPEncoderLayerOptions.conditioning`); plain layers ignore it. */
  conditioning?: Tensor;
}

/** Parts a variant of the vision tower may replace. */
export interface CLIPVisionParts {
  /** Makes each encoder layer (default: plain `CLIPEncoderLayer`s). */
  createLayer?: CLIPEncoderLayerFactory;
}

/** What a CLIP vision model returns (the caller disposes the tensors). */
export interface CLIPVisionOutput {
  /** [B, 1 + patches, hidden]: the encoder output (no post LayerNorm, as transformers). */
  lastHiddenState: Tensor;
  /** [B, hidden]: post_layernorm of the class token. */
  pooledOutput: Tensor;
  /** N + 1 tensors [B, 1 + patches, hidden] when `outputHiddenStates` was set. */
  hiddenStates?: Tensor[];
}

/**
 * transformers' `CLIPVisionTransformer` (the `vision_model.` of a checkpoint): patch embeddings,
 * `pre_layrnorm` (sic, the checkpoint's spelling), a bidirectional pre-LN transformer, and
 * `post_layernorm` on the class token. Input: normalised pixel values [B, C, S, S].
 *
 * @example
 * ```ts
 * const visionModel = new CLIPVisionTransformer(clipVisionConfigFromTransformers(configJson));
 * visionModel.forward(pixelValues).pooledOutput; // [B, hidden]
 * ```
 */
export class CLIPVisionTransformer extends Module {
  readonly config: CLIPVisionConfig;
  readonly embeddings: CLIPVisionEmbeddings;
  readonly pre_layrnorm: LayerNorm;
  readonly encoder: CLIPEncoder;
  readonly post_layernorm: LayerNorm;

  constructor(config: CLIPVisionConfig, options: LayerOptions = {}, parts: CLIPVisionParts = {}) {
    super();
    this.config = config;
    const norm = { ...options, eps: config.layerNormEps };
    this.embeddings = this.registerModule("embeddings", new CLIPVisionEmbeddings(config, options));
    this.pre_layrnorm = this.registerModule("pre_layrnorm", new LayerNorm(config.hiddenSize, norm));
    this.encoder = this.registerModule("encoder", new CLIPEncoder(config, options, parts.createLayer));
    this.post_layernorm = this.registerModule("post_layernorm", new LayerNorm(config.hiddenSize, norm));
  }

  forward(pixelValues: Tensor, options: CLIPVisionForwardOptions = {}): CLIPVisionOutput {
    return tidy(() => {
      // 1. patches + class token + positions, then the pre-LayerNorm (hidden_states[0] is after it)
      const embedded = this.pre_layrnorm.forward(this.embeddings.forward(pixelValues));
      // 2. the encoder, every token seeing every other
      const encoderOptions = { conditioning: options.conditioning };
      let hiddenStates: Tensor[] | undefined;
      let lastHiddenState: Tensor;
      if (options.outputHiddenStates) {
        hiddenStates = [embedded, ...this.encoder.hiddenStates(embedded, encoderOptions)];
        lastHiddenState = hiddenStates[hiddenStates.length - 1];
      } else {
        lastHiddenState = this.encoder.forward(embedded, encoderOptions);
      }
      // 3. the class token, post-LayerNormed
      const [batch, , hidden] = lastHiddenState.shape;
      const classToken = reshape(narrow(lastHiddenState, 1, 0, 1), [batch, hidden]);
      const pooledOutput = this.post_layernorm.forward(classToken);
      return hiddenStates ? { lastHiddenState, pooledOutput, hiddenStates } : { lastHiddenState, pooledOutput };
    });
  }
}

/**
 * transformers' `CLIPVisionModel`: the vision tower alone (`vision_model.*`).
 *
 * @example
 * ```ts
 * const vision = CLIPVisionModel.fromConfig(JSON.parse(configJson));
 * const { pooledOutput } = vision.forward(pixelValues); // [B, hidden]
 * ```
 */
export class CLIPVisionModel extends Module {
  readonly config: CLIPVisionConfig;
  readonly vision_model: CLIPVisionTransformer;

  constructor(config: CLIPVisionConfig, given: LayerOptions = {}) {
    super();
    const options = withInitStream(given); // a seeded build's weights depend on its seed alone
    this.config = config;
    this.vision_model = this.registerModule("vision_model", new CLIPVisionTransformer(config, options));
  }

  /** Builds the model from a transformers `config.json` object (`CLIPVisionConfig` or `CLIPConfig`). */
  static fromConfig(json: Record<string, unknown>, options: LayerOptions = {}): CLIPVisionModel {
    return new CLIPVisionModel(clipVisionConfigFromTransformers(json), options);
  }

  forward(pixelValues: Tensor, options: CLIPVisionForwardOptions = {}): CLIPVisionOutput {
    return this.vision_model.forward(pixelValues, options);
  }
}

/** What `CLIPVisionModelWithProjection` returns. */
export interface CLIPVisionProjectionOutput extends CLIPVisionOutput {
  /** [B, projection_dim]: `visual_projection(pooledOutput)`. */
  imageEmbeds: Tensor;
}

/**
 * transformers' `CLIPVisionModelWithProjection`: the vision tower plus `visual_projection`
 * (no bias), giving CLIP's image embedding. The base of the step-aware preference model.
 *
 * @example
 * ```ts
 * const model = CLIPVisionModelWithProjection.fromConfig(config);
 * const { imageEmbeds } = model.forward(pixelValues); // [B, projection_dim]
 * ```
 */
export class CLIPVisionModelWithProjection extends Module {
  readonly config: CLIPVisionConfig;
  readonly vision_model: CLIPVisionTransformer;
  readonly visual_projection: Linear;

  constructor(config: CLIPVisionConfig, given: LayerOptions = {}) {
    super();
    const options = withInitStream(given); // a seeded build's weights depend on its seed alone
    this.config = config;
    this.vision_model = this.registerModule("vision_model", new CLIPVisionTransformer(config, options));
    this.visual_projection = this.registerModule(
      "visual_projection",
      new Linear(config.hiddenSize, config.projectionDim, { ...options, bias: false }),
    );
  }

  static fromConfig(json: Record<string, unknown>, options: LayerOptions = {}): CLIPVisionModelWithProjection {
    return new CLIPVisionModelWithProjection(clipVisionConfigFromTransformers(json), options);
  }

  forward(pixelValues: Tensor, options: CLIPVisionForwardOptions = {}): CLIPVisionProjectionOutput {
    return tidy(() => {
      const output = this.vision_model.forward(pixelValues, options);
      return { ...output, imageEmbeds: this.visual_projection.forward(output.pooledOutput) };
    });
  }
}
