import type { Tensor } from "../tensor/tensor.ts";
import { applyAdapters, type LayerAdapter } from "./adapter.ts";
import { type LayerOptions, uniformParameter } from "./init.ts";
import { Module } from "./module.ts";
import { linear } from "./_ops.ts";

/**
 * y = x·Wᵀ + b with W of shape [outFeatures, inFeatures] (PyTorch's layout, so checkpoints load
 * as they are). Default init: U(±1/√inFeatures) for W and b, as torch.nn.Linear.
 */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  /** Branches added to the output (LoRA), by name; not parameters of this layer (see LayerAdapter). */
  readonly adapters = new Map<string, LayerAdapter>();

  constructor(inFeatures: number, outFeatures: number, options: LayerOptions & { bias?: boolean } = {}) {
    super();
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.registerParameter("weight", uniformParameter([outFeatures, inFeatures], bound, options));
    this.bias = (options.bias ?? true) ? this.registerParameter("bias", uniformParameter([outFeatures], bound, options)) : null;
  }

  forward(x: Tensor): Tensor {
    const y = linear(x, this.weight, this.bias ?? undefined);
    return this.adapters.size === 0 ? y : applyAdapters(this.adapters, x, y);
  }
}
