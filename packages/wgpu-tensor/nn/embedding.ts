import type { Tensor } from "../tensor/tensor.ts";
import { type LayerOptions, uniformParameter } from "./init.ts";
import { Module } from "./module.ts";
import { embedding } from "./_ops.ts";

/** A lookup table [numEmbeddings, embeddingDim]; `forward(ids)` gathers rows for i32 ids. */
export class Embedding extends Module {
  readonly weight: Tensor;

  constructor(numEmbeddings: number, embeddingDim: number, options: LayerOptions = {}) {
    super();
    // torch initialises N(0, 1); a uniform of the same variance (±√3) keeps one RNG path here
    this.weight = this.registerParameter("weight", uniformParameter([numEmbeddings, embeddingDim], Math.sqrt(3), options));
  }

  forward(ids: Tensor): Tensor {
    return embedding(this.weight, ids);
  }
}
