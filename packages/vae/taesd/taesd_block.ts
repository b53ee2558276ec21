import { add, Conv2d, type LayerOptions, Module, relu, type Tensor, tidy } from "@spo/wgpu-tensor";

/**
 * taesd.py `Block`: ReLU(conv(ReLU(conv(ReLU(conv(x))))) + skip(x)), 3×3 convs with bias at keys
 * `conv.0`, `conv.2`, `conv.4`; `skip` is a 1×1 conv without bias only when the width changes.
 *
 * @example
 * ```ts
 * new TAESDBlock(64, 64).forward(x); // same shape
 * ```
 */
export class TAESDBlock extends Module {
  readonly convs: Conv2d[];
  readonly skip: Conv2d | null;

  constructor(inChannels: number, outChannels: number, options: LayerOptions = {}) {
    super();
    this.convs = [
      this.registerModule("conv.0", new Conv2d(inChannels, outChannels, 3, { ...options, padding: 1 })),
      this.registerModule("conv.2", new Conv2d(outChannels, outChannels, 3, { ...options, padding: 1 })),
      this.registerModule("conv.4", new Conv2d(outChannels, outChannels, 3, { ...options, padding: 1 })),
    ];
    this.skip =
      inChannels === outChannels ? null : this.registerModule("skip", new Conv2d(inChannels, outChannels, 1, { ...options, bias: false }));
  }

  forward(x: Tensor): Tensor {
    return tidy(() => {
      const [conv0, conv2, conv4] = this.convs;
      const h = conv4.forward(relu(conv2.forward(relu(conv0.forward(x)))));
      return relu(add(h, this.skip ? this.skip.forward(x) : x));
    });
  }
}
