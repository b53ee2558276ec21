import { noGrad } from "../autograd/grad_mode.ts";
import { tidy } from "../memory/scope.ts";
import { gelu, geluTanh, mul, relu, silu, sigmoid, tanh } from "../ops/elementwise/elementwise_ops.ts";
import { lt } from "../ops/elementwise/elementwise_ops.ts";
import type { RandomGenerator } from "../ops/random/random_generator.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { Module } from "./module.ts";

/** An activation as a module, for model code that composes layers (torch.nn.SiLU and friends). */
export class Activation extends Module {
  readonly fn: (x: Tensor) => Tensor;

  constructor(name: "silu" | "gelu" | "geluTanh" | "relu" | "sigmoid" | "tanh" | "quickGelu") {
    super();
    const table = { silu, gelu, geluTanh, relu, sigmoid, tanh, quickGelu };
    this.fn = table[name];
  }

  forward(x: Tensor): Tensor {
    return this.fn(x);
  }
}

/** CLIP's x·σ(1.702x). */
export function quickGelu(x: Tensor): Tensor {
  return tidy(() => mul(x, sigmoid(mul(x, 1.702))));
}

/**
 * Zeroes each element with probability `p` in training mode and scales the rest by 1/(1 − p)
 * (inverted dropout, as torch.nn.Dropout); the identity in eval mode. The mask comes from a
 * seeded generator, so a run is reproducible.
 */
export class Dropout extends Module {
  readonly p: number;
  readonly generator: RandomGenerator;

  constructor(p: number, generator: RandomGenerator) {
    super();
    if (!(p >= 0 && p < 1)) throw new RangeError(`Cannot make Dropout(${p}): p must be in [0, 1)`);
    this.p = p;
    this.generator = generator;
  }

  forward(x: Tensor): Tensor {
    if (!this.isTraining || this.p === 0) return x;
    return tidy(() => {
      const keepMask = noGrad(() => lt(this.generator.rand(x.shape), 1 - this.p));
      return mul(x, mul(keepMask, 1 / (1 - this.p)));
    });
  }
}
