import { Conv2d, type LayerOptions, Module, pad, type Tensor, tidy, upsampleNearest } from "@spo/wgpu-tensor";

/**
 * The VAE encoder's `downsamplers.0`: zero-pad right and bottom by one, then a 3×3 convolution
 * with stride 2 and no padding (diffusers `Downsample2D(padding=0)`, asymmetric on purpose).
 *
 * @example
 * ```ts
 * new VAEDownsample2D(128).forward(x); // [B, 128, 64, 64] → [B, 128, 32, 32]
 * ```
 */
export class VAEDownsample2D extends Module {
  readonly conv: Conv2d;

  constructor(channels: number, options: LayerOptions = {}) {
    super();
    this.conv = this.registerModule("conv", new Conv2d(channels, channels, 3, { ...options, stride: 2, padding: 0 }));
  }

  forward(x: Tensor): Tensor {
    return tidy(() => this.conv.forward(pad(x, [0, 1, 0, 1])));
  }
}

/**
 * The VAE decoder's `upsamplers.0`: nearest-neighbour ×2, then a 3×3 convolution (padding 1).
 *
 * @example
 * ```ts
 * new VAEUpsample2D(512).forward(x); // [B, 512, 16, 16] → [B, 512, 32, 32]
 * ```
 */
export class VAEUpsample2D extends Module {
  readonly conv: Conv2d;

  constructor(channels: number, options: LayerOptions = {}) {
    super();
    this.conv = this.registerModule("conv", new Conv2d(channels, channels, 3, { ...options, padding: 1 }));
  }

  forward(x: Tensor): Tensor {
    return tidy(() => this.conv.forward(upsampleNearest(x, { scaleFactor: 2 })));
  }
}
