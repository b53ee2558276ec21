import { noGrad } from "../autograd/grad_mode.ts";
import { keep, tidy } from "../memory/scope.ts";
import { add, abs, mul } from "../ops/elementwise/elementwise_ops.ts";
import { sum } from "../ops/reduce/reduce_ops.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { Optimizer } from "./optimizer.ts";

export interface GradScalerOptions {
  initScale?: number;
  growthFactor?: number;
  backoffFactor?: number;
  growthInterval?: number;
}

/** What a checkpoint keeps of a `GradScaler` to resume on the same schedule. */
export interface GradScalerState {
  scale: number;
  /** Clean steps since the scale last changed. */
  cleanSteps: number;
}

/**
 * Dynamic loss scaling for f16 training (torch.cuda.amp.GradScaler's rule): multiply the loss by
 * `scale` before backward so small f16 gradients do not flush to zero; `step` unscales the
 * gradients, skips the optimizer step when any is inf/NaN (and halves the scale), and doubles the
 * scale after `growthInterval` clean steps. `step` reads one number back, hence async.
 */
export class GradScaler {
  scale: number;
  readonly growthFactor: number;
  readonly backoffFactor: number;
  readonly growthInterval: number;
  #cleanSteps = 0;
  /** The optimizer whose gradients `unscale` divided since the last `step`, and what it found. */
  #unscaled: Optimizer | null = null;
  #unscaledFinite = true;

  constructor(options: GradScalerOptions = {}) {
    this.scale = options.initScale ?? 65536;
    this.growthFactor = options.growthFactor ?? 2;
    this.backoffFactor = options.backoffFactor ?? 0.5;
    this.growthInterval = options.growthInterval ?? 2000;
  }

  /** The scale and the clean-step count (a resumed run continues the same schedule). */
  stateDict(): GradScalerState {
    return { scale: this.scale, cleanSteps: this.#cleanSteps };
  }

  loadStateDict(state: GradScalerState): void {
    if (!(state.scale > 0 && Number.isFinite(state.scale)) || !Number.isInteger(state.cleanSteps) || state.cleanSteps < 0)
      throw new RangeError(`Cannot load a GradScaler state with scale ${state.scale} and ${state.cleanSteps} clean steps`);
    this.scale = state.scale;
    this.#cleanSteps = state.cleanSteps;
  }

  /** loss × scale */
  scaleLoss(loss: Tensor): Tensor {
    return mul(loss, this.scale);
  }

  /**
   * Divides the optimizer's gradients by `scale` now and reports whether all are finite (one
   * readback), like torch's `scaler.unscale_(optimizer)`: for clipping true gradients between
   * backward and `step`, which then does not unscale again. After a non-finite result `step`
   * skips, backs off and zeroes the gradients.
   */
  async unscale(optimizer: Optimizer): Promise<boolean> {
    if (this.#unscaled === optimizer) throw new Error("Cannot unscale the same optimizer twice before step()");
    const params = optimizer.params.filter((p) => p.grad);
    const inverse = 1 / this.scale;
    const magnitude = noGrad(() => {
      for (const p of params) {
        const unscaled = keep(mul(p.grad!, inverse));
        p.grad!.dispose();
        p.grad = unscaled;
      }
      // Σ|g| is finite exactly when every gradient element is (an inf or NaN poisons the sum)
      return tidy(() =>
        params.reduce<Tensor | null>((acc, p) => {
          const s = sum(abs(p.grad!));
          return acc ? add(acc, s) : s;
        }, null),
      );
    });
    const allFinite = magnitude ? Number.isFinite(await magnitude.item()) : true;
    magnitude?.dispose();
    this.#unscaled = optimizer;
    this.#unscaledFinite = allFinite;
    return allFinite;
  }

  /**
   * Unscales gradients (unless `unscale` already did) and steps unless one is inf/NaN; returns
   * whether the step was taken.
   */
  async step(optimizer: Optimizer): Promise<boolean> {
    const allFinite = this.#unscaled === optimizer ? this.#unscaledFinite : await this.unscale(optimizer);
    this.#unscaled = null;
    if (!allFinite) {
      this.scale *= this.backoffFactor;
      this.#cleanSteps = 0;
      optimizer.zeroGrad();
      return false;
    }
    optimizer.step();
    this.#cleanSteps++;
    if (this.#cleanSteps >= this.growthInterval) {
      this.scale *= this.growthFactor;
      this.#cleanSteps = 0;
    }
    return true;
  }
}
