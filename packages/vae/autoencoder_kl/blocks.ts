import { type LayerOptions, Module, type Tensor, tidy } from "@spo/wgpu-tensor";
import { VAEAttention } from "./attention.ts";
import { VAEResnetBlock2D } from "./resnet.ts";
import { VAEDownsample2D, VAEUpsample2D } from "./sampling.ts";

/**
 * diffusers' `DownEncoderBlock2D`: `resnets.0 … resnets.{n−1}` (the first changes the width),
 * then `downsamplers.0` unless it is the last block.
 *
 * @example
 * ```ts
 * const block = new DownEncoderBlock2D(128, 256, { numLayers: 2, groups: 32, addDownsample: true });
 * block.forward(x); // [B, 128, 64, 64] → [B, 256, 32, 32]
 * ```
 */
export class DownEncoderBlock2D extends Module {
  readonly resnets: VAEResnetBlock2D[] = [];
  readonly downsampler: VAEDownsample2D | null;

  constructor(
    inChannels: number,
    outChannels: number,
    block: { numLayers: number; groups: number; addDownsample: boolean },
    options: LayerOptions = {},
  ) {
    super();
    for (let i = 0; i < block.numLayers; i++) {
      const resnet = new VAEResnetBlock2D(i === 0 ? inChannels : outChannels, outChannels, block.groups, options);
      this.resnets.push(this.registerModule(`resnets.${i}`, resnet));
    }
    this.downsampler = block.addDownsample ? this.registerModule("downsamplers.0", new VAEDownsample2D(outChannels, options)) : null;
  }

  forward(x: Tensor): Tensor {
    return tidy(() => {
      let h = x;
      for (const resnet of this.resnets) h = resnet.forward(h);
      return this.downsampler ? this.downsampler.forward(h) : h;
    });
  }
}

/**
 * diffusers' `UpDecoderBlock2D`: `resnets.0 … resnets.{n−1}` (the first changes the width),
 * then `upsamplers.0` unless it is the last block.
 *
 * @example
 * ```ts
 * const block = new UpDecoderBlock2D(512, 256, { numLayers: 3, groups: 32, addUpsample: true });
 * block.forward(x); // [B, 512, 64, 64] → [B, 256, 128, 128]
 * ```
 */
export class UpDecoderBlock2D extends Module {
  readonly resnets: VAEResnetBlock2D[] = [];
  readonly upsampler: VAEUpsample2D | null;

  constructor(
    inChannels: number,
    outChannels: number,
    block: { numLayers: number; groups: number; addUpsample: boolean },
    options: LayerOptions = {},
  ) {
    super();
    for (let i = 0; i < block.numLayers; i++) {
      const resnet = new VAEResnetBlock2D(i === 0 ? inChannels : outChannels, outChannels, block.groups, options);
      this.resnets.push(this.registerModule(`resnets.${i}`, resnet));
    }
    this.upsampler = block.addUpsample ? this.registerModule("upsamplers.0", new VAEUpsample2D(outChannels, options)) : null;
  }

  forward(x: Tensor): Tensor {
    return tidy(() => {
      let h = x;
      for (const resnet of this.resnets) h = resnet.forward(h);
      return this.upsampler ? this.upsampler.forward(h) : h;
    });
  }
}

/**
 * diffusers' `UNetMidBlock2D` as the VAE uses it: `resnets.0`, then (`attentions.0`,
 * `resnets.1`); without attention (`mid_block_add_attention: false`) just the two resnets.
 *
 * @example
 * ```ts
 * const mid = new VAEMidBlock2D(512, { groups: 32, addAttention: true });
 * mid.forward(x); // same shape
 * ```
 */
export class VAEMidBlock2D extends Module {
  readonly resnets: VAEResnetBlock2D[];
  readonly attention: VAEAttention | null;

  constructor(channels: number, block: { groups: number; addAttention: boolean }, options: LayerOptions = {}) {
    super();
    // registration order = diffusers' state_dict order (attentions before resnets)
    this.attention = block.addAttention ? this.registerModule("attentions.0", new VAEAttention(channels, block.groups, options)) : null;
    this.resnets = [0, 1].map((i) => this.registerModule(`resnets.${i}`, new VAEResnetBlock2D(channels, channels, block.groups, options)));
  }

  forward(x: Tensor): Tensor {
    return tidy(() => {
      let h = this.resnets[0].forward(x);
      if (this.attention) h = this.attention.forward(h);
      return this.resnets[1].forward(h);
    });
  }
}
