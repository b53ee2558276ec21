import type { Tensor } from "../tensor/tensor.ts";
import { constantParameter, type LayerOptions } from "./init.ts";
import { Module } from "./module.ts";
import { groupNorm, layerNorm } from "./_ops.ts";

/** GroupNorm over NCHW with f32 statistics; affine weight (ones) and bias (zeros) as torch.nn.GroupNorm. */
export class GroupNorm extends Module {
  readonly numGroups: number;
  readonly eps: number;
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;

  constructor(numGroups: number, numChannels: number, options: LayerOptions & { eps?: number; affine?: boolean } = {}) {
    super();
    if (numChannels % numGroups !== 0) {
      throw new RangeError(`Cannot make GroupNorm(${numGroups}, ${numChannels}): channels must be divisible by groups`);
    }
    this.numGroups = numGroups;
    this.eps = options.eps ?? 1e-5;
    const isAffine = options.affine ?? true;
    this.weight = isAffine ? this.registerParameter("weight", constantParameter([numChannels], 1, options)) : null;
    this.bias = isAffine ? this.registerParameter("bias", constantParameter([numChannels], 0, options)) : null;
  }

  /** `activation: "silu"` fuses the SiLU that follows most GroupNorms in diffusion models. */
  forward(x: Tensor, activation?: "silu"): Tensor {
    return groupNorm(x, this.numGroups, this.weight ?? undefined, this.bias ?? undefined, { eps: this.eps, activation });
  }
}

/** LayerNorm over the last dimensions, as torch.nn.LayerNorm. */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number;
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;

  constructor(normalizedShape: number | number[], options: LayerOptions & { eps?: number; elementwiseAffine?: boolean } = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === "number" ? [normalizedShape] : [...normalizedShape];
    this.eps = options.eps ?? 1e-5;
    const isAffine = options.elementwiseAffine ?? true;
    this.weight = isAffine ? this.registerParameter("weight", constantParameter(this.normalizedShape, 1, options)) : null;
    this.bias = isAffine ? this.registerParameter("bias", constantParameter(this.normalizedShape, 0, options)) : null;
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight ?? undefined, this.bias ?? undefined, { eps: this.eps });
  }
}
