import { checkpoint, concat, type LayerOptions, Module, type Tensor } from "@spo/wgpu-tensor";
import { ResnetBlock2D } from "./resnet.ts";
import { Downsample2D, Upsample2D } from "./sampling.ts";
import { Transformer2DModel, type TransformerOptions } from "./transformer_2d.ts";

/** What every block shares, derived from the UNet config. */
export interface BlockOptions extends LayerOptions {
  temb: number;
  groups: number;
  eps: number;
  heads: number;
  crossAttentionDim: number;
  transformerLayers: number;
  useLinearProjection: boolean;
}

function transformerOptions(options: BlockOptions): TransformerOptions {
  return { ...options, layers: options.transformerLayers };
}

/** Switch shared by the blocks: recompute each resnet and transformer in backward instead of storing it. */
export class CheckpointedBlock extends Module {
  isCheckpointing = false;

  protected resnet(resnet: ResnetBlock2D, h: Tensor, temb: Tensor): Tensor {
    return this.isCheckpointing ? checkpoint((x, t) => resnet.forward(x, t), h, temb) : resnet.forward(h, temb);
  }

  protected transformer(transformer: Transformer2DModel, h: Tensor, context: Tensor): Tensor {
    return this.isCheckpointing ? checkpoint((x, c) => transformer.forward(x, c), h, context) : transformer.forward(h, context);
  }
}

/**
 * DownBlock2D / CrossAttnDownBlock2D: `layers` resnets (each followed by a transformer when
 * `hasAttention`), then an optional stride-2 downsampler. Returns the output and every
 * intermediate state the up path will concatenate back.
 */
export class DownBlock extends CheckpointedBlock {
  readonly resnets: ResnetBlock2D[];
  readonly attentions: Transformer2DModel[];
  readonly downsampler: Downsample2D | null;

  constructor(
    inChannels: number,
    outChannels: number,
    layers: number,
    hasAttention: boolean,
    addDownsample: boolean,
    padding: number,
    options: BlockOptions,
  ) {
    super();
    this.resnets = Array.from({ length: layers }, (_, i) =>
      this.registerModule(`resnets.${i}`, new ResnetBlock2D(i === 0 ? inChannels : outChannels, outChannels, options)),
    );
    this.attentions = hasAttention
      ? Array.from({ length: layers }, (_, i) =>
          this.registerModule(`attentions.${i}`, new Transformer2DModel(outChannels, transformerOptions(options))),
        )
      : [];
    this.downsampler = addDownsample ? this.registerModule("downsamplers.0", new Downsample2D(outChannels, padding, options)) : null;
  }

  forward(x: Tensor, temb: Tensor, context: Tensor): { output: Tensor; skips: Tensor[] } {
    const skips: Tensor[] = [];
    let h = x;
    this.resnets.forEach((resnet, i) => {
      h = this.resnet(resnet, h, temb);
      if (this.attentions[i]) h = this.transformer(this.attentions[i], h, context);
      skips.push(h);
    });
    if (this.downsampler) {
      h = this.downsampler.forward(h);
      skips.push(h);
    }
    return { output: h, skips };
  }
}

/** UNetMidBlock2DCrossAttn: resnet, transformer, resnet. */
export class MidBlock extends CheckpointedBlock {
  readonly resnets: ResnetBlock2D[];
  readonly attentions: Transformer2DModel[];

  constructor(channels: number, options: BlockOptions) {
    super();
    this.resnets = [0, 1].map((i) => this.registerModule(`resnets.${i}`, new ResnetBlock2D(channels, channels, options)));
    this.attentions = [this.registerModule("attentions.0", new Transformer2DModel(channels, transformerOptions(options)))];
  }

  forward(x: Tensor, temb: Tensor, context: Tensor): Tensor {
    const h = this.resnet(this.resnets[0], x, temb);
    const attended = this.transformer(this.attentions[0], h, context);
    return this.resnet(this.resnets[1], attended, temb);
  }
}

/**
 * UpBlock2D / CrossAttnUpBlock2D: `layers + 1` resnets, each on [h | skip] concatenated along
 * channels (skips taken newest first), each followed by a transformer when `hasAttention`, then an
 * optional upsampler to the next skip's spatial size.
 */
export class UpBlock extends CheckpointedBlock {
  readonly resnets: ResnetBlock2D[];
  readonly attentions: Transformer2DModel[];
  readonly upsampler: Upsample2D | null;

  constructor(
    inChannels: number,
    prevOutputChannels: number,
    outChannels: number,
    layers: number,
    hasAttention: boolean,
    addUpsample: boolean,
    options: BlockOptions,
  ) {
    super();
    this.resnets = Array.from({ length: layers }, (_, i) => {
      const skipChannels = i === layers - 1 ? inChannels : outChannels;
      const resnetIn = i === 0 ? prevOutputChannels : outChannels;
      return this.registerModule(`resnets.${i}`, new ResnetBlock2D(resnetIn + skipChannels, outChannels, options));
    });
    this.attentions = hasAttention
      ? Array.from({ length: layers }, (_, i) =>
          this.registerModule(`attentions.${i}`, new Transformer2DModel(outChannels, transformerOptions(options))),
        )
      : [];
    this.upsampler = addUpsample ? this.registerModule("upsamplers.0", new Upsample2D(outChannels, options)) : null;
  }

  /** `skips` is consumed from its end; the upsampler targets the spatial size of the next skip. */
  forward(x: Tensor, skips: Tensor[], temb: Tensor, context: Tensor): Tensor {
    let h = x;
    this.resnets.forEach((resnet, i) => {
      const skip = skips.pop()!;
      const joined = concat([h, skip], 1);
      h = this.resnet(resnet, joined, temb);
      joined.dispose();
      if (this.attentions[i]) h = this.transformer(this.attentions[i], h, context);
    });
    if (!this.upsampler) return h;
    const next = skips.at(-1);
    return this.upsampler.forward(h, next ? [next.shape[2], next.shape[3]] : undefined);
  }
}
