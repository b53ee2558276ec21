import { type LayerOptions, LayerNorm, Linear, Module, type Tensor, tidy, withInitStream } from "@spo/wgpu-tensor";
import { type CLIPTextConfig, clipTextConfigFromTransformers } from "../transformer/clip_config.ts";
import { CLIPEncoder } from "../transformer/clip_encoder.ts";
import { textAttentionMask } from "./attention_mask.ts";
import { checkIds, CLIPTextEmbeddings } from "./clip_text_embeddings.ts";
import { gatherTokens, poolingIndices } from "./pooling.ts";

/** Options of a text-model forward pass. */
export interface CLIPTextForwardOptions {
  /**
   * Skip the last `clipSkip` layers, diffusers' `clip_skip`: the context is
   * `final_layer_norm(hidden_states[−(clipSkip + 1)])`. 0 (default) is the plain output.
   * AUTOMATIC1111's "Clip skip N" is `clipSkip: N − 1` (its N = 2 is the common anime setting).
   * Without `outputHiddenStates` the skipped layers are not run at all.
   */
  clipSkip?: number;
  /** Also return every hidden state: the embeddings, then each layer's output (before the final LayerNorm). */
  outputHiddenStates?: boolean;
  /**
   * [B, L] with 1 for tokens to attend to and 0 for padding (transformers' `attention_mask`).
   * Stable Diffusion passes none: it pads with EOS and relies on the causal mask.
   */
  attentionMask?: Tensor;
}

/** What a CLIP text model returns (the caller disposes the tensors). */
export interface CLIPTextOutput {
  /** [B, L, hidden]: final_layer_norm of the last layer run (of layer N − clipSkip). */
  lastHiddenState: Tensor;
  /** [B, hidden]: `lastHiddenState` at each row's pooling position (see `poolingIndices`). */
  pooledOutput: Tensor;
  /** N + 1 tensors [B, L, hidden] when `outputHiddenStates` was set. */
  hiddenStates?: Tensor[];
}

/**
 * transformers' `CLIPTextTransformer` (the `text_model.` of a checkpoint): embeddings, a causal
 * pre-LN transformer, final LayerNorm, pooling at the EOS token.
 *
 * @example
 * ```ts
 * const textModel = new CLIPTextTransformer(clipTextConfigFromTransformers(configJson));
 * textModel.forward(ids).lastHiddenState; // [B, L, hidden]
 * ```
 */
export class CLIPTextTransformer extends Module {
  readonly config: CLIPTextConfig;
  readonly embeddings: CLIPTextEmbeddings;
  readonly encoder: CLIPEncoder;
  readonly final_layer_norm: LayerNorm;

  constructor(config: CLIPTextConfig, options: LayerOptions = {}) {
    super();
    this.config = config;
    this.embeddings = this.registerModule("embeddings", new CLIPTextEmbeddings(config, options));
    this.encoder = this.registerModule("encoder", new CLIPEncoder(config, options));
    this.final_layer_norm = this.registerModule(
      "final_layer_norm",
      new LayerNorm(config.hiddenSize, { ...options, eps: config.layerNormEps }),
    );
  }

  forward(ids: Tensor, options: CLIPTextForwardOptions = {}): CLIPTextOutput {
    checkIds("CLIPTextModel", ids, this.config.maxPositionEmbeddings);
    const layerCount = this.config.numHiddenLayers;
    const clipSkip = options.clipSkip ?? 0;
    if (!Number.isInteger(clipSkip) || clipSkip < 0 || clipSkip >= layerCount) {
      throw new RangeError(
        `Cannot run CLIPTextModel with clipSkip ${clipSkip}: it must be an integer from 0 to ${layerCount - 1} (the model has ${layerCount} layers)`,
      );
    }
    return tidy(() => {
      // 1. token + position embeddings; causal attention, plus a padding mask when given
      const embedded = this.embeddings.forward(ids);
      const attention = options.attentionMask ? { attnMask: textAttentionMask(options.attentionMask, ids.shape[1]) } : { isCausal: true };
      // 2. causal transformer, all layers when every state is wanted, else only up to the one used
      let hiddenStates: Tensor[] | undefined;
      let taken: Tensor;
      if (options.outputHiddenStates) {
        hiddenStates = [embedded, ...this.encoder.hiddenStates(embedded, attention)];
        taken = hiddenStates[layerCount - clipSkip];
      } else {
        taken = this.encoder.forward(embedded, { ...attention, numLayers: layerCount - clipSkip });
      }
      // 3. final LayerNorm, then pool at each row's EOS
      const lastHiddenState = this.final_layer_norm.forward(taken);
      const pooledOutput = gatherTokens(lastHiddenState, poolingIndices(ids, this.config.eosTokenId));
      return hiddenStates ? { lastHiddenState, pooledOutput, hiddenStates } : { lastHiddenState, pooledOutput };
    });
  }
}

/**
 * transformers' `CLIPTextModel`, the text encoder of Stable Diffusion 1.x (CLIP ViT-L/14's text
 * tower), built from its `config.json`; parameter names are the checkpoint's
 * (`text_model.encoder.layers.0.self_attn.q_proj.weight`, …).
 *
 * @example
 * ```ts
 * const textEncoder = CLIPTextModel.fromConfig(JSON.parse(configJson), { init: "meta" });
 * await loadClipTextWeights(textEncoder, reader); // or loadTextEncoderFromFolder(path) in Node
 * const { lastHiddenState } = textEncoder.forward(ids, { clipSkip: 1 }); // [B, 77, 768]
 * ```
 */
export class CLIPTextModel extends Module {
  readonly config: CLIPTextConfig;
  readonly text_model: CLIPTextTransformer;

  constructor(config: CLIPTextConfig, given: LayerOptions = {}) {
    super();
    const options = withInitStream(given); // a seeded build's weights depend on its seed alone
    this.config = config;
    this.text_model = this.registerModule("text_model", new CLIPTextTransformer(config, options));
  }

  /** Builds the model from a transformers `config.json` object (`CLIPTextConfig` or `CLIPConfig`). */
  static fromConfig(json: Record<string, unknown>, options: LayerOptions = {}): CLIPTextModel {
    return new CLIPTextModel(clipTextConfigFromTransformers(json), options);
  }

  /** ids i32 [B, L] (L ≤ max_position_embeddings) → hidden states, pooled output. */
  forward(ids: Tensor, options: CLIPTextForwardOptions = {}): CLIPTextOutput {
    return this.text_model.forward(ids, options);
  }

  /** i32 [B]: the position each row is pooled at (transformers' rule for this config's eos_token_id). */
  poolingIndices(ids: Tensor): Tensor {
    return poolingIndices(ids, this.config.eosTokenId);
  }
}

/** What `CLIPTextModelWithProjection` returns. */
export interface CLIPTextProjectionOutput extends CLIPTextOutput {
  /** [B, projection_dim]: `text_projection(pooledOutput)`. */
  textEmbeds: Tensor;
}

/**
 * transformers' `CLIPTextModelWithProjection`: the text tower plus `text_projection` (no bias),
 * giving CLIP's text embedding (SDXL's second encoder, PickScore-style scorers).
 *
 * @example
 * ```ts
 * const model = CLIPTextModelWithProjection.fromConfig(config);
 * const { textEmbeds } = model.forward(ids); // [B, projection_dim]
 * ```
 */
export class CLIPTextModelWithProjection extends Module {
  readonly config: CLIPTextConfig;
  readonly text_model: CLIPTextTransformer;
  readonly text_projection: Linear;

  constructor(config: CLIPTextConfig, given: LayerOptions = {}) {
    super();
    const options = withInitStream(given); // a seeded build's weights depend on its seed alone
    this.config = config;
    this.text_model = this.registerModule("text_model", new CLIPTextTransformer(config, options));
    this.text_projection = this.registerModule(
      "text_projection",
      new Linear(config.hiddenSize, config.projectionDim, { ...options, bias: false }),
    );
  }

  static fromConfig(json: Record<string, unknown>, options: LayerOptions = {}): CLIPTextModelWithProjection {
    return new CLIPTextModelWithProjection(clipTextConfigFromTransformers(json), options);
  }

  forward(ids: Tensor, options: CLIPTextForwardOptions = {}): CLIPTextProjectionOutput {
    return tidy(() => {
      const output = this.text_model.forward(ids, options);
      return { ...output, textEmbeds: this.text_projection.forward(output.pooledOutput) };
    });
  }
}
