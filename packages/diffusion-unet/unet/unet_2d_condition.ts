import {
  Conv2d,
  GroupNorm,
  keep,
  type LayerOptions,
  layerOptions,
  type ModelDType,
  Module,
  mul,
  sub,
  type Tensor,
  tidy,
  toDType,
  withInitStream,
} from "@spo/wgpu-tensor";
import { type BlockOptions, DownBlock, MidBlock, UpBlock } from "./blocks.ts";
import { type UNetConfig, unetConfigFromDiffusers } from "./config.ts";
import { TimestepEmbedding, timestepProjection } from "./embeddings.ts";

export interface UNetForwardOptions {
  /**
   * Receives named intermediate activations (`time_proj`, `time_embedding`, `conv_in`,
   * `down_blocks.<i>`, `mid_block`, `up_blocks.<i>`), kept alive for the caller to read and dispose.
   */
  capture?: Map<string, Tensor>;
}

/** Timesteps as host numbers: one for the whole batch, or one per batch element. */
export type Timesteps = number | readonly number[];

/**
 * Stable Diffusion's conditional UNet, built from a diffusers `config.json` and named exactly like
 * diffusers' `UNet2DConditionModel`, so `loadStateDict` takes diffusers checkpoints as they are.
 *
 * @example
 * ```ts
 * const unet = UNet2DConditionModel.fromConfig(JSON.parse(configJson), { init: "meta" });
 * unet.parameterCount(); // 859520964 for SD1.5, nothing allocated
 * ```
 */
export class UNet2DConditionModel extends Module {
  readonly config: UNetConfig;
  /** Storage dtype of weights and activations (`options.dtype`, f32 by default); see PRECISION_RULES. */
  readonly dtype: ModelDType;
  readonly conv_in: Conv2d;
  readonly time_embedding: TimestepEmbedding;
  readonly down_blocks: DownBlock[];
  readonly mid_block: MidBlock;
  readonly up_blocks: UpBlock[];
  readonly conv_norm_out: GroupNorm;
  readonly conv_out: Conv2d;

  constructor(config: UNetConfig, given: LayerOptions = {}) {
    super();
    const options = withInitStream(given); // a seeded build's weights depend on its seed alone
    this.config = config;
    if (options.dtype !== undefined && options.dtype !== "f32" && options.dtype !== "f16") {
      throw new RangeError(`Cannot make a UNet2DConditionModel in ${options.dtype}: the dtype must be f32 or f16`);
    }
    this.dtype = options.dtype ?? "f32";
    const channels = config.blockOutChannels;
    const temb = channels[0] * 4;
    const shared = (heads: number): BlockOptions => ({
      ...layerOptions(options),
      temb,
      groups: config.normNumGroups,
      eps: config.normEps,
      heads,
      crossAttentionDim: config.crossAttentionDim,
      transformerLayers: config.transformerLayersPerBlock,
      useLinearProjection: config.useLinearProjection,
    });

    const layer = layerOptions(options);
    this.conv_in = this.registerModule("conv_in", new Conv2d(config.inChannels, channels[0], 3, { ...layer, padding: 1 }));
    this.time_embedding = this.registerModule("time_embedding", new TimestepEmbedding(channels[0], temb, layer));

    // down path
    this.down_blocks = config.downBlockTypes.map((type, i) => {
      const isFinal = i === channels.length - 1;
      const input = i === 0 ? channels[0] : channels[i - 1];
      const block = new DownBlock(
        input,
        channels[i],
        config.layersPerBlock,
        type === "CrossAttnDownBlock2D",
        !isFinal,
        config.downsamplePadding,
        shared(config.headsPerBlock[i]),
      );
      return this.registerModule(`down_blocks.${i}`, block);
    });

    // middle
    const deepest = channels.at(-1)!;
    this.mid_block = this.registerModule("mid_block", new MidBlock(deepest, shared(config.headsPerBlock.at(-1)!)));

    // up path: channels and head counts reversed, as diffusers does
    const reversedChannels = [...channels].reverse();
    const reversedHeads = [...config.headsPerBlock].reverse();
    this.up_blocks = config.upBlockTypes.map((type, i) => {
      const isFinal = i === channels.length - 1;
      const prevOutput = i === 0 ? reversedChannels[0] : reversedChannels[i - 1];
      const output = reversedChannels[i];
      const input = reversedChannels[Math.min(i + 1, channels.length - 1)];
      const block = new UpBlock(
        input,
        prevOutput,
        output,
        config.layersPerBlock + 1,
        type === "CrossAttnUpBlock2D",
        !isFinal,
        shared(reversedHeads[i]),
      );
      return this.registerModule(`up_blocks.${i}`, block);
    });

    this.conv_norm_out = this.registerModule(
      "conv_norm_out",
      new GroupNorm(config.normNumGroups, channels[0], { ...layer, eps: config.normEps }),
    );
    this.conv_out = this.registerModule("conv_out", new Conv2d(channels[0], config.outChannels, 3, { ...layer, padding: 1 }));
  }

  /**
   * Gradient checkpointing on every resnet and transformer of the down, mid and up blocks
   * (diffusers' `enable_gradient_checkpointing`): backward recomputes them instead of keeping
   * their activations, trading compute for memory when training.
   */
  setGradientCheckpointing(isEnabled: boolean): this {
    for (const block of [...this.down_blocks, this.mid_block, ...this.up_blocks]) block.isCheckpointing = isEnabled;
    return this;
  }

  /** Builds the model from diffusers' snake_case `config.json` object. */
  static fromConfig(json: Record<string, unknown>, options: LayerOptions = {}): UNet2DConditionModel {
    return new UNet2DConditionModel(unetConfigFromDiffusers(json), options);
  }

  /**
   * Predicts the noise (or v) for `sample` [B, C, H, W] at `timesteps`, conditioned on
   * `encoderHiddenStates` [B, S, crossAttentionDim]. Inputs of any float dtype are cast to the model's
   * dtype; the prediction comes back in `sample`'s dtype, so an f16 model under an f32 scheduler
   * keeps the scheduler math in f32 (PRECISION_RULES.scheduler).
   */
  forward(sample: Tensor, timesteps: Timesteps, encoderHiddenStates: Tensor, options: UNetForwardOptions = {}): Tensor {
    const batch = sample.shape[0];
    const perSample = typeof timesteps === "number" ? new Array<number>(batch).fill(timesteps) : [...timesteps];
    if (perSample.length !== batch) {
      throw new RangeError(`Cannot run UNet2DConditionModel: ${perSample.length} timesteps for a batch of ${batch}`);
    }
    const capture = (name: string, t: Tensor) => options.capture?.set(name, keep(t));
    return tidy(() => {
      // 0. optional centring
      const typed = toDType(sample, this.dtype);
      const input = this.config.centerInputSample ? sub(mul(typed, 2), 1) : typed;
      const context = toDType(encoderHiddenStates, this.dtype);
      // 1. time: computed in f32 on the host, cast once (PRECISION_RULES.timestepEmbedding)
      const projectedF32 = timestepProjection(
        perSample,
        this.config.blockOutChannels[0],
        this.config.flipSinToCos,
        this.config.freqShift,
        sample.device,
      );
      const projected = toDType(projectedF32, this.dtype);
      const temb = this.time_embedding.forward(projected);
      capture("time_proj", projected);
      capture("time_embedding", temb);
      // 2. down, keeping every state for the skips
      let h = this.conv_in.forward(input);
      capture("conv_in", h);
      const skips: Tensor[] = [h];
      this.down_blocks.forEach((block, i) => {
        const result = block.forward(h, temb, context);
        h = result.output;
        skips.push(...result.skips);
        capture(`down_blocks.${i}`, h);
      });
      // 3. middle
      h = this.mid_block.forward(h, temb, context);
      capture("mid_block", h);
      // 4. up, consuming skips newest first and upsampling to the next skip's size
      this.up_blocks.forEach((block, i) => {
        h = block.forward(h, skips, temb, context);
        capture(`up_blocks.${i}`, h);
      });
      // 5. out
      return toDType(this.conv_out.forward(this.conv_norm_out.forward(h, "silu")), sample.dtype);
    });
  }
}
