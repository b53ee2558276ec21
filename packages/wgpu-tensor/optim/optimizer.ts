import { DisposedError, DTypeError, NonFiniteError } from "../tensor/errors.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { clipGradNorm, gradNorm } from "./clip_grad.ts";

/** Saved optimizer state: step count, hyperparameters and per-parameter host arrays. */
export interface OptimizerState {
  step: number;
  hyperparameters: Record<string, number>;
  /** Per-parameter state tensors (e.g. `exp_avg`) by parameter index, as host f32 data. */
  slots: Record<string, Float32Array>[];
}

/**
 * Base for optimizers over a fixed list of f32 parameters. `step()` updates every parameter that has
 * a gradient, in place on the GPU; `zeroGrad()` drops the gradients.
 */
export abstract class Optimizer {
  readonly params: readonly Tensor[];
  /** Learning rate; schedules set it before each step. */
  lr: number;
  /** Number of `step()` calls so far. */
  stepCount = 0;

  constructor(params: Iterable<Tensor>, lr: number) {
    this.params = [...params];
    this.lr = lr;
    for (const p of this.params) {
      if (p.dtype !== "f32") {
        throw new DTypeError(
          "Optimizer",
          [p.dtype],
          `Cannot optimise a ${p.dtype} parameter of shape [${p.shape}]: keep master weights in f32`,
        );
      }
    }
  }

  abstract step(): void;

  /**
   * `step()` guarded by the gradients' global L2 norm (clipped to `maxGradNorm` first, when given,
   * as `clipGradNorm` does): when the norm is NaN or Inf, throws NonFiniteError naming "the
   * gradient norm" before any parameter or optimizer state changes, so one bad batch cannot make
   * every weight NaN. Returns the norm before clipping. Reads one number back, hence async.
   *
   * @example
   * ```ts
   * backward(loss);
   * const norm = await optimizer.checkedStep({ maxGradNorm: 1 });
   * optimizer.zeroGrad();
   * ```
   */
  async checkedStep(options: { maxGradNorm?: number } = {}): Promise<number> {
    this.checkParameters("checkedStep");
    const norm = options.maxGradNorm === undefined ? gradNorm(this.params) : clipGradNorm(this.params, options.maxGradNorm);
    let value: number;
    try {
      value = await norm.item();
    } finally {
      norm.dispose();
    }
    if (!Number.isFinite(value)) throw new NonFiniteError("the gradient norm", [], 0, value, 1);
    this.step();
    return value;
  }

  /**
   * Throws DisposedError naming the first disposed parameter (whose gradient went with it), so
   * that `step()` refuses it before updating any parameter instead of skipping it as gradient-free.
   */
  protected checkParameters(op: string): void {
    this.params.forEach((p, i) => {
      if (p.isDisposed) {
        throw new DisposedError(
          op,
          p.shape,
          `Cannot run ${op}: parameter ${i} of shape [${p.shape.join(", ")}] was disposed; make a new optimizer over the live parameters`,
        );
      }
    });
  }

  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Copies the optimizer state to the host (for checkpoints). */
  abstract stateDict(): Promise<OptimizerState>;

  /** Restores state saved by `stateDict()` (same parameter list and shapes). */
  abstract loadStateDict(state: OptimizerState): void;

  /** Frees the GPU memory of the optimizer's state. */
  abstract dispose(): void;
}
