import { Conv2d, GroupNorm, type LayerOptions, Module, type Tensor, tidy } from "@spo/wgpu-tensor";
import { DownEncoderBlock2D, VAEMidBlock2D } from "./blocks.ts";
import { VAE_NORM_EPS } from "./resnet.ts";
import type { AutoencoderKLConfig } from "./vae_config.ts";

/**
 * diffusers' VAE `Encoder` (`encoder.*`): conv_in, the down blocks, the mid block, then
 * GroupNorm-SiLU-conv_out to 2 × latent channels (mean and log-variance, `double_z`).
 *
 * @example
 * ```ts
 * const encoder = new VAEEncoder(config);
 * encoder.forward(image); // [B, 3, 512, 512] → [B, 8, 64, 64]
 * ```
 */
export class VAEEncoder extends Module {
  readonly conv_in: Conv2d;
  readonly down_blocks: DownEncoderBlock2D[] = [];
  readonly mid_block: VAEMidBlock2D;
  readonly conv_norm_out: GroupNorm;
  readonly conv_out: Conv2d;

  constructor(config: AutoencoderKLConfig, options: LayerOptions = {}) {
    super();
    const widths = config.blockOutChannels;
    const groups = config.normNumGroups;
    this.conv_in = this.registerModule("conv_in", new Conv2d(config.inChannels, widths[0], 3, { ...options, padding: 1 }));
    let width = widths[0];
    widths.forEach((outWidth, i) => {
      const block = { numLayers: config.layersPerBlock, groups, addDownsample: i < widths.length - 1 };
      this.down_blocks.push(this.registerModule(`down_blocks.${i}`, new DownEncoderBlock2D(width, outWidth, block, options)));
      width = outWidth;
    });
    this.mid_block = this.registerModule(
      "mid_block",
      new VAEMidBlock2D(width, { groups, addAttention: config.midBlockAddAttention }, options),
    );
    this.conv_norm_out = this.registerModule("conv_norm_out", new GroupNorm(groups, width, { ...options, eps: VAE_NORM_EPS }));
    this.conv_out = this.registerModule("conv_out", new Conv2d(width, 2 * config.latentChannels, 3, { ...options, padding: 1 }));
  }

  forward(x: Tensor): Tensor {
    return tidy(() => {
      let h = this.conv_in.forward(x);
      for (const block of this.down_blocks) h = block.forward(h);
      h = this.mid_block.forward(h);
      return this.conv_out.forward(this.conv_norm_out.forward(h, "silu"));
    });
  }
}
