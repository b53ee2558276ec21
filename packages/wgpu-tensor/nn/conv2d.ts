import type { Tensor } from "../tensor/tensor.ts";
import { applyAdapters, type LayerAdapter } from "./adapter.ts";
import { type LayerOptions, uniformParameter } from "./init.ts";
import { Module } from "./module.ts";
import { conv2d } from "./_ops.ts";

export interface Conv2dOptions extends LayerOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
  dilation?: number | [number, number];
  groups?: number;
  bias?: boolean;
}

/** 2-D convolution over NCHW input, weight [out, in/groups, kH, kW] as torch.nn.Conv2d. */
export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly options: Required<Pick<Conv2dOptions, "stride" | "padding" | "dilation" | "groups">>;
  /** Branches added to the output (LoRA), by name; not parameters of this layer (see LayerAdapter). */
  readonly adapters = new Map<string, LayerAdapter>();

  constructor(inChannels: number, outChannels: number, kernelSize: number | [number, number], options: Conv2dOptions = {}) {
    super();
    const [kH, kW] = typeof kernelSize === "number" ? [kernelSize, kernelSize] : kernelSize;
    const groups = options.groups ?? 1;
    if (inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new RangeError(`Cannot make Conv2d(${inChannels}, ${outChannels}): channels must be divisible by groups (${groups})`);
    }
    const fanIn = (inChannels / groups) * kH * kW;
    const bound = 1 / Math.sqrt(fanIn);
    this.weight = this.registerParameter("weight", uniformParameter([outChannels, inChannels / groups, kH, kW], bound, options));
    this.bias = (options.bias ?? true) ? this.registerParameter("bias", uniformParameter([outChannels], bound, options)) : null;
    this.options = { stride: options.stride ?? 1, padding: options.padding ?? 0, dilation: options.dilation ?? 1, groups };
  }

  forward(x: Tensor): Tensor {
    const y = conv2d(x, this.weight, this.bias ?? undefined, this.options);
    return this.adapters.size === 0 ? y : applyAdapters(this.adapters, x, y);
  }
}
