// A tiny Stable Diffusion (2-layer text encoder of width 16, 2-level UNet, 3-level VAE) in diffusers'
// config.json form, small enough to run a whole pipeline on a CPU adapter in seconds.

export const TINY_TEXT_CONFIG = {
  vocab_size: 49408,
  hidden_size: 16,
  intermediate_size: 32,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  max_position_embeddings: 77,
  hidden_act: "quick_gelu",
  layer_norm_eps: 1e-5,
  bos_token_id: 49406,
  eos_token_id: 49407,
  pad_token_id: 1,
};

export const TINY_UNET_CONFIG = {
  sample_size: 8,
  in_channels: 4,
  out_channels: 4,
  down_block_types: ["CrossAttnDownBlock2D", "DownBlock2D"],
  mid_block_type: "UNetMidBlock2DCrossAttn",
  up_block_types: ["UpBlock2D", "CrossAttnUpBlock2D"],
  block_out_channels: [32, 64],
  layers_per_block: 1,
  norm_num_groups: 32,
  cross_attention_dim: 16,
  attention_head_dim: 8,
};

export const TINY_VAE_CONFIG = {
  in_channels: 3,
  out_channels: 3,
  down_block_types: ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
  up_block_types: ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"],
  block_out_channels: [8, 16, 16],
  layers_per_block: 1,
  latent_channels: 4,
  norm_num_groups: 8,
  sample_size: 32,
  scaling_factor: 0.18215,
};
