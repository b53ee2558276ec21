import { add, Conv2d, GroupNorm, type LayerOptions, Module, type Tensor, tidy } from "@spo/wgpu-tensor";

/** diffusers' VAE GroupNorm epsilon (every GroupNorm of AutoencoderKL). */
export const VAE_NORM_EPS = 1e-6;

/**
 * diffusers' `ResnetBlock2D` as the VAE uses it (no time embedding, eps 1e-6):
 *   h = conv2(SiLU(norm2(conv1(SiLU(norm1(x))))));  out = shortcut(x) + h
 * with `conv_shortcut` a 1×1 conv when the channel count changes.
 *
 * @example
 * ```ts
 * const resnet = new VAEResnetBlock2D(128, 256, 32);
 * resnet.forward(x); // [B, 128, H, W] → [B, 256, H, W]
 * ```
 */
export class VAEResnetBlock2D extends Module {
  readonly norm1: GroupNorm;
  readonly conv1: Conv2d;
  readonly norm2: GroupNorm;
  readonly conv2: Conv2d;
  readonly conv_shortcut: Conv2d | null;

  constructor(inChannels: number, outChannels: number, groups: number, options: LayerOptions = {}) {
    super();
    const norm = { ...options, eps: VAE_NORM_EPS };
    this.norm1 = this.registerModule("norm1", new GroupNorm(groups, inChannels, norm));
    this.conv1 = this.registerModule("conv1", new Conv2d(inChannels, outChannels, 3, { ...options, padding: 1 }));
    this.norm2 = this.registerModule("norm2", new GroupNorm(groups, outChannels, norm));
    this.conv2 = this.registerModule("conv2", new Conv2d(outChannels, outChannels, 3, { ...options, padding: 1 }));
    this.conv_shortcut =
      inChannels === outChannels ? null : this.registerModule("conv_shortcut", new Conv2d(inChannels, outChannels, 1, options));
  }

  forward(x: Tensor): Tensor {
    return tidy(() => {
      // 1. normalise, activate, convolve, twice (dropout is 0)
      const h = this.conv1.forward(this.norm1.forward(x, "silu"));
      const out = this.conv2.forward(this.norm2.forward(h, "silu"));
      // 2. residual
      const shortcut = this.conv_shortcut ? this.conv_shortcut.forward(x) : x;
      return add(shortcut, out);
    });
  }
}
