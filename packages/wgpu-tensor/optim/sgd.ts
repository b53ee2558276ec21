import { keep } from "../memory/scope.ts";
import { tensor, zerosLike } from "../ops/creation/creation.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { Params } from "../wgsl/params.ts";
import { runInPlace } from "./in_place_kernel.ts";
import { Optimizer, type OptimizerState } from "./optimizer.ts";

export interface SGDOptions {
  lr?: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/**
 * SGD with PyTorch's exact update (torch.optim.SGD):
 *   g ← g + λθ;  b ← g at the first step, else μb + (1 − τ)g;  g ← nesterov ? g + μb : b;  θ ← θ − lr·g
 * (without momentum: θ ← θ − lr·(g + λθ)).
 */
export class SGD extends Optimizer {
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  #buffers: Tensor[];

  constructor(params: Iterable<Tensor>, options: SGDOptions = {}) {
    super(params, options.lr ?? 1e-3);
    this.momentum = options.momentum ?? 0;
    this.dampening = options.dampening ?? 0;
    this.weightDecay = options.weightDecay ?? 0;
    this.nesterov = options.nesterov ?? false;
    this.#buffers = this.momentum ? this.params.map((p) => keep(zerosLike(p))) : [];
  }

  step(): void {
    this.checkParameters("SGD.step");
    this.stepCount++;
    const isFirst = this.stepCount === 1;
    this.params.forEach((param, i) => {
      if (!param.grad) return;
      const params = new Params()
        .u32("size", param.size)
        .f32("lr", this.lr)
        .f32("weight_decay", this.weightDecay)
        .f32("momentum", this.momentum)
        .f32("one_minus_dampening", 1 - (isFirst ? 0 : this.dampening))
        .f32("keep", isFirst ? 0 : 1);
      if (!this.momentum) {
        runInPlace(
          "sgd_step_f32",
          [
            { name: "theta", tensor: param, access: "read_write" },
            { name: "grad", tensor: param.grad, access: "read" },
          ],
          params,
          `
  theta[i] = theta[i] - p.lr * (grad[i] + p.weight_decay * theta[i]);`,
        );
        return;
      }
      // at the first step the buffer starts as g itself: b = 0·b + (1 − 0)·g
      runInPlace(
        `sgd_momentum_step_f32${this.nesterov ? "_nesterov" : ""}`,
        [
          { name: "theta", tensor: param, access: "read_write" },
          { name: "grad", tensor: param.grad, access: "read" },
          { name: "b", tensor: this.#buffers[i], access: "read_write" },
        ],
        params,
        `
  let g = grad[i] + p.weight_decay * theta[i];
  let b_next = p.keep * p.momentum * b[i] + p.one_minus_dampening * g;
  b[i] = b_next;
  let direction = ${this.nesterov ? "g + p.momentum * b_next" : "b_next"};
  theta[i] = theta[i] - p.lr * direction;`,
      );
    });
  }

  async stateDict(): Promise<OptimizerState> {
    const slots = [];
    for (const buffer of this.#buffers) slots.push({ momentum_buffer: (await buffer.toArray()) as Float32Array });
    return {
      step: this.stepCount,
      hyperparameters: {
        lr: this.lr,
        momentum: this.momentum,
        dampening: this.dampening,
        weightDecay: this.weightDecay,
        nesterov: this.nesterov ? 1 : 0,
      },
      slots,
    };
  }

  loadStateDict(state: OptimizerState): void {
    this.stepCount = state.step;
    const h = state.hyperparameters;
    this.lr = h.lr;
    this.momentum = h.momentum;
    this.dampening = h.dampening;
    this.weightDecay = h.weightDecay;
    this.nesterov = h.nesterov === 1;
    this.#buffers.forEach((b) => b.dispose());
    this.#buffers = state.slots.map((slot, i) =>
      keep(tensor(slot.momentum_buffer, this.params[i].shape, { device: this.params[i].device })),
    );
  }

  dispose(): void {
    this.#buffers.forEach((b) => b.dispose());
  }
}
