import { Conv2d, GroupNorm, type LayerOptions, Module, type Tensor, tidy } from "@spo/wgpu-tensor";
import { UpDecoderBlock2D, VAEMidBlock2D } from "./blocks.ts";
import { VAE_NORM_EPS } from "./resnet.ts";
import type { AutoencoderKLConfig } from "./vae_config.ts";

/**
 * diffusers' VAE `Decoder` (`decoder.*`): conv_in from the latent channels to the widest level,
 * the mid block, the up blocks (widths reversed, one more resnet each than the encoder), then
 * GroupNorm-SiLU-conv_out to image channels.
 *
 * @example
 * ```ts
 * const decoder = new VAEDecoder(config);
 * decoder.forward(z); // [B, 4, 64, 64] → [B, 3, 512, 512]
 * ```
 */
export class VAEDecoder extends Module {
  readonly conv_in: Conv2d;
  readonly up_blocks: UpDecoderBlock2D[] = [];
  readonly mid_block: VAEMidBlock2D;
  readonly conv_norm_out: GroupNorm;
  readonly conv_out: Conv2d;

  constructor(config: AutoencoderKLConfig, options: LayerOptions = {}) {
    super();
    const widths = [...config.blockOutChannels].reverse();
    const groups = config.normNumGroups;
    this.conv_in = this.registerModule("conv_in", new Conv2d(config.latentChannels, widths[0], 3, { ...options, padding: 1 }));
    // registration order = diffusers' state_dict order (up_blocks before mid_block)
    let width = widths[0];
    widths.forEach((outWidth, i) => {
      const block = { numLayers: config.layersPerBlock + 1, groups, addUpsample: i < widths.length - 1 };
      this.up_blocks.push(this.registerModule(`up_blocks.${i}`, new UpDecoderBlock2D(width, outWidth, block, options)));
      width = outWidth;
    });
    this.mid_block = this.registerModule(
      "mid_block",
      new VAEMidBlock2D(widths[0], { groups, addAttention: config.midBlockAddAttention }, options),
    );
    this.conv_norm_out = this.registerModule("conv_norm_out", new GroupNorm(groups, width, { ...options, eps: VAE_NORM_EPS }));
    this.conv_out = this.registerModule("conv_out", new Conv2d(width, config.outChannels, 3, { ...options, padding: 1 }));
  }

  forward(z: Tensor): Tensor {
    return tidy(() => {
      let h = this.conv_in.forward(z);
      h = this.mid_block.forward(h);
      for (const block of this.up_blocks) h = block.forward(h);
      return this.conv_out.forward(this.conv_norm_out.forward(h, "silu"));
    });
  }
}
