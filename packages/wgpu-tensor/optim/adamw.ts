import { keep } from "../memory/scope.ts";
import { tensor, zerosLike } from "../ops/creation/creation.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { Params } from "../wgsl/params.ts";
import { runInPlace } from "./in_place_kernel.ts";
import { Optimizer, type OptimizerState } from "./optimizer.ts";

export interface AdamWOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

/**
 * AdamW with PyTorch's exact update (torch.optim.AdamW, non-amsgrad), per parameter θ with
 * gradient g at step t:
 *   θ ← θ·(1 − lr·λ)                          (decoupled weight decay)
 *   m ← β₁m + (1 − β₁)g,   v ← β₂v + (1 − β₂)g²
 *   θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
 * One fused in-place kernel per parameter.
 *
 * @example
 * ```ts
 * const opt = new AdamW(model.parameters(), { lr: 1e-4, weightDecay: 1e-2 });
 * backward(loss); opt.step(); opt.zeroGrad();
 * ```
 */
export class AdamW extends Optimizer {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  #expAvg: Tensor[];
  #expAvgSq: Tensor[];

  constructor(params: Iterable<Tensor>, options: AdamWOptions = {}) {
    super(params, options.lr ?? 1e-3);
    [this.beta1, this.beta2] = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 1e-2;
    this.#expAvg = this.params.map((p) => keep(zerosLike(p)));
    this.#expAvgSq = this.params.map((p) => keep(zerosLike(p)));
  }

  step(): void {
    this.checkParameters("AdamW.step");
    this.stepCount++;
    const t = this.stepCount;
    const biasCorrection1 = 1 - this.beta1 ** t;
    const biasCorrection2 = 1 - this.beta2 ** t;
    this.params.forEach((param, i) => {
      if (!param.grad) return;
      const params = new Params()
        .u32("size", param.size)
        .f32("decay", 1 - this.lr * this.weightDecay)
        .f32("beta1", this.beta1)
        .f32("beta2", this.beta2)
        // 1 − β in f64 then rounded (as torch passes it): 1 − f32(0.999) is off by 1.3e-5 relative
        .f32("one_minus_beta1", 1 - this.beta1)
        .f32("one_minus_beta2", 1 - this.beta2)
        .f32("step_size", this.lr / biasCorrection1)
        .f32("sqrt_bc2", Math.sqrt(biasCorrection2))
        .f32("eps", this.eps);
      runInPlace(
        "adamw_step_f32",
        [
          { name: "theta", tensor: param, access: "read_write" },
          { name: "grad", tensor: param.grad, access: "read" },
          { name: "m", tensor: this.#expAvg[i], access: "read_write" },
          { name: "v", tensor: this.#expAvgSq[i], access: "read_write" },
        ],
        params,
        `
  let g = grad[i];
  let m_next = p.beta1 * m[i] + p.one_minus_beta1 * g;
  let v_next = p.beta2 * v[i] + p.one_minus_beta2 * g * g;
  m[i] = m_next;
  v[i] = v_next;
  let denominator = sqrt(v_next) / p.sqrt_bc2 + p.eps;
  theta[i] = theta[i] * p.decay - p.step_size * m_next / denominator;`,
      );
    });
  }

  async stateDict(): Promise<OptimizerState> {
    const slots = [];
    for (let i = 0; i < this.params.length; i++) {
      slots.push({
        exp_avg: (await this.#expAvg[i].toArray()) as Float32Array,
        exp_avg_sq: (await this.#expAvgSq[i].toArray()) as Float32Array,
      });
    }
    return {
      step: this.stepCount,
      hyperparameters: { lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay },
      slots,
    };
  }

  loadStateDict(state: OptimizerState): void {
    if (state.slots.length !== this.params.length) {
      throw new RangeError(`Cannot load AdamW state: it has ${state.slots.length} parameters, this optimizer ${this.params.length}`);
    }
    this.stepCount = state.step;
    const h = state.hyperparameters;
    this.lr = h.lr;
    this.beta1 = h.beta1;
    this.beta2 = h.beta2;
    this.eps = h.eps;
    this.weightDecay = h.weightDecay;
    this.params.forEach((p, i) => {
      this.#expAvg[i].dispose();
      this.#expAvgSq[i].dispose();
      this.#expAvg[i] = keep(tensor(state.slots[i].exp_avg, p.shape, { device: p.device }));
      this.#expAvgSq[i] = keep(tensor(state.slots[i].exp_avg_sq, p.shape, { device: p.device }));
    });
  }

  dispose(): void {
    this.#expAvg.forEach((t) => t.dispose());
    this.#expAvgSq.forEach((t) => t.dispose());
  }
}
