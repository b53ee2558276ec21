import { Conv2d, type LayerOptions, layerOptions, Module, type Tensor, tidy, upsampleNearest } from "@spo/wgpu-tensor";

/** `downsamplers.0`: a 3×3 convolution with stride 2. */
export class Downsample2D extends Module {
  readonly conv: Conv2d;

  constructor(channels: number, padding: number, options: LayerOptions = {}) {
    super();
    this.conv = this.registerModule("conv", new Conv2d(channels, channels, 3, { ...layerOptions(options), stride: 2, padding }));
  }

  forward(x: Tensor): Tensor {
    return this.conv.forward(x);
  }
}

/** `upsamplers.0`: nearest-neighbour upsampling (×2, or to the skip tensor's size) then a 3×3 convolution. */
export class Upsample2D extends Module {
  readonly conv: Conv2d;

  constructor(channels: number, options: LayerOptions = {}) {
    super();
    this.conv = this.registerModule("conv", new Conv2d(channels, channels, 3, { ...layerOptions(options), padding: 1 }));
  }

  forward(x: Tensor, size?: [number, number]): Tensor {
    return tidy(() => {
      const upsampled = size ? upsampleNearest(x, { size }) : upsampleNearest(x, { scaleFactor: 2 });
      return this.conv.forward(upsampled);
    });
  }
}
