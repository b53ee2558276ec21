/**
 * The toy base model's configuration: Stable Diffusion's classes (UNet2DConditionModel,
 * CLIPTextModel over CLIP's real tokenizer, a DDIM scheduler) in tiny sizes, in pixel space.
 *
 * Why pixel space: the images are 16 × 16 × 3, already as small as SD's 64 × 64 × 4 latents are
 * relative to its model, so a VAE would only add a second model to train and an approximate
 * decoder; without one, `decode` is the identity, the reward and the step-aware preference model
 * see exactly what the sampler produced, and each SPO step saves a decoder pass.
 *
 * Why 16 × 16: measured on this 2-core machine (lavapipe, other jobs running), one training step
 * of this UNet with the text encoder on 32 images took 5–10 s at 16 × 16, 12–28 s at 24 × 24 and
 * 50–90 s at 32 × 32 (self-attention over 1,024 positions); an hour of pretraining at 32 × 32
 * would see fewer than 2,000 images. Shapes of 4–7 pixels stay recognisable at 16 × 16.
 */

/** diffusers `unet/config.json` of the toy UNet (about 0.8 M parameters). */
export const TOY_UNET_CONFIG = {
  _class_name: "UNet2DConditionModel",
  sample_size: 16,
  in_channels: 3,
  out_channels: 3,
  down_block_types: ["CrossAttnDownBlock2D", "DownBlock2D"],
  up_block_types: ["UpBlock2D", "CrossAttnUpBlock2D"],
  block_out_channels: [32, 64],
  layers_per_block: 1,
  norm_num_groups: 8,
  cross_attention_dim: 32,
  attention_head_dim: 2,
} as const;

/** transformers `text_encoder/config.json` of the toy text encoder (CLIP's vocabulary, 2 layers of width 32). */
export const TOY_TEXT_ENCODER_CONFIG = {
  architectures: ["CLIPTextModel"],
  model_type: "clip_text_model",
  vocab_size: 49408,
  hidden_size: 32,
  intermediate_size: 64,
  num_attention_heads: 2,
  num_hidden_layers: 2,
  max_position_embeddings: 77,
  hidden_act: "quick_gelu",
  layer_norm_eps: 1e-5,
  projection_dim: 32,
  bos_token_id: 49406,
  eos_token_id: 2,
  pad_token_id: 1,
} as const;

/**
 * diffusers `scheduler/scheduler_config.json`: DDPM's linear β from 1e-4 to 0.02 (made for pixel
 * space: ᾱ at t = 999 is 4e-5, so the last step is pure noise; SD's scaled-linear schedule leaves
 * 7 % of the signal there, tuned for latents), DDIM sampling with SD1.5's leading spacing.
 *
 * v-prediction (SD 2's choice), not ε: measured here, an ε model after 50 steps of pretraining
 * denoised well only below t ≈ 100 and its samples were pure noise, because x̂₀ = (x_t −
 * √(1−ᾱ)·ε̂)/√ᾱ multiplies ε̂'s error by up to 100 at high t; predicting v = √ᾱ·ε − √(1−ᾱ)·x₀ is
 * well conditioned at every t (at high t it is the image itself), so a briefly trained model already
 * gives the right colours in the right places. ε̂ = √ᾱ·v̂ + √(1−ᾱ)·x_t for code that needs it.
 */
export const TOY_SCHEDULER_CONFIG = {
  _class_name: "DDIMScheduler",
  beta_schedule: "linear",
  beta_start: 0.0001,
  beta_end: 0.02,
  num_train_timesteps: 1000,
  clip_sample: false,
  set_alpha_to_one: false,
  steps_offset: 1,
  prediction_type: "v_prediction",
  timestep_spacing: "leading",
  trained_betas: null,
} as const;

/** diffusers `model_index.json` of the folder (no VAE: pixel space). */
export const TOY_MODEL_INDEX = {
  _class_name: "StableDiffusionPipeline",
  scheduler: ["diffusers", "DDIMScheduler"],
  text_encoder: ["transformers", "CLIPTextModel"],
  tokenizer: ["transformers", "CLIPTokenizer"],
  unet: ["diffusers", "UNet2DConditionModel"],
  vae: [null, null],
  safety_checker: [null, null],
  feature_extractor: [null, null],
  requires_safety_checker: false,
} as const;
