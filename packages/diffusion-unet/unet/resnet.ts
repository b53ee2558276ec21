import {
  add,
  Conv2d,
  GroupNorm,
  type LayerOptions,
  layerOptions,
  Linear,
  Module,
  reshape,
  silu,
  type Tensor,
  tidy,
} from "@spo/wgpu-tensor";

export interface ResnetOptions extends LayerOptions {
  temb: number;
  groups: number;
  eps: number;
}

/**
 * diffusers' ResnetBlock2D with a time embedding:
 *   h = conv1(SiLU(norm1(x))) + time_emb_proj(SiLU(temb))[:, :, None, None]
 *   out = shortcut(x) + conv2(SiLU(norm2(h)))      (shortcut = 1×1 conv iff channels change)
 */
export class ResnetBlock2D extends Module {
  readonly norm1: GroupNorm;
  readonly conv1: Conv2d;
  readonly time_emb_proj: Linear;
  readonly norm2: GroupNorm;
  readonly conv2: Conv2d;
  readonly conv_shortcut: Conv2d | null;

  constructor(inChannels: number, outChannels: number, options: ResnetOptions) {
    super();
    const layer = layerOptions(options);
    const norm = { ...layer, eps: options.eps };
    this.norm1 = this.registerModule("norm1", new GroupNorm(options.groups, inChannels, norm));
    this.conv1 = this.registerModule("conv1", new Conv2d(inChannels, outChannels, 3, { ...layer, padding: 1 }));
    this.time_emb_proj = this.registerModule("time_emb_proj", new Linear(options.temb, outChannels, layer));
    this.norm2 = this.registerModule("norm2", new GroupNorm(options.groups, outChannels, norm));
    this.conv2 = this.registerModule("conv2", new Conv2d(outChannels, outChannels, 3, { ...layer, padding: 1 }));
    this.conv_shortcut =
      inChannels === outChannels ? null : this.registerModule("conv_shortcut", new Conv2d(inChannels, outChannels, 1, layer));
  }

  forward(x: Tensor, temb: Tensor): Tensor {
    return tidy(() => {
      // 1. normalise, activate, convolve
      let h = this.conv1.forward(this.norm1.forward(x, "silu"));
      // 2. add the projected time embedding to every pixel
      const time = this.time_emb_proj.forward(silu(temb));
      h = add(h, reshape(time, [time.shape[0], time.shape[1], 1, 1]));
      // 3. second normalise, activate, convolve (dropout 0 in inference and SPO)
      h = this.conv2.forward(this.norm2.forward(h, "silu"));
      // 4. residual
      const shortcut = this.conv_shortcut ? this.conv_shortcut.forward(x) : x;
      return add(shortcut, h);
    });
  }
}
