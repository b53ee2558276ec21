/**
 * The toy preference models' configuration: the step-aware preference model of
 * @spo/step-preference-model (a CLIP with a time-conditioned vision tower) in a tiny size, over
 * CLIP's real tokenizer (32 positions: the grammar's longest prompt is 18 tokens with BOS and EOS), seeing the toy world's 16 × 16 images in 2 × 2 patches (64 patches: an
 * object of 4–7 pixels spans several, so shape and place stay visible). The step-agnostic scorer
 * is the same model without the time conditioning.
 */
export const TOY_SPM_CONFIG = {
  architectures: ["CLIPModel"],
  model_type: "clip",
  projection_dim: 32,
  logit_scale_init_value: 2.6592,
  text_config: {
    model_type: "clip_text_model",
    vocab_size: 49408,
    hidden_size: 32,
    intermediate_size: 64,
    num_attention_heads: 2,
    num_hidden_layers: 2,
    max_position_embeddings: 32,
    hidden_act: "quick_gelu",
    layer_norm_eps: 1e-5,
    projection_dim: 32,
    bos_token_id: 49406,
    eos_token_id: 2,
    pad_token_id: 1,
  },
  vision_config: {
    model_type: "clip_vision_model",
    hidden_size: 48,
    intermediate_size: 96,
    num_attention_heads: 2,
    num_hidden_layers: 2,
    image_size: 16,
    patch_size: 2,
    num_channels: 3,
    hidden_act: "quick_gelu",
    layer_norm_eps: 1e-5,
    projection_dim: 32,
  },
  // the timestep's sinusoid width (SPO's SD1.5 model: 256)
  t_embedder_frequency_embedding_size: 64,
} as const;

/** Which of the two shipped scorers: SPO's step-aware model or the ablation's step-agnostic one. */
export type ToySpmKind = "step-aware" | "step-agnostic";
