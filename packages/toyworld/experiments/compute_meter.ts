/**
 * Compute accounting in UNet forward-equivalents: the UNet's `forward` is wrapped so every call
 * counts its batch rows (a CFG call on n images is 2n rows). A row whose output carries a gradient
 * is backpropagated by the trainer, and a backward pass is counted as two forwards (the usual
 * convention: gradients with respect to activations and to weights each cost about one forward).
 * So forward-equivalents = rows + 2 · rows with gradient. Scorers and the text encoder are not
 * counted (their cost shows in the wall time).
 *
 * @module
 */

import type { Tensor } from "@spo/wgpu-tensor";

/** A backward pass in forward-equivalents. */
export const BACKWARD_COST = 2;

/** Rows that went through the UNet. */
export interface ComputeCount {
  /** Every row of every forward call. */
  rows: number;
  /** Rows whose output required a gradient (backpropagated once each). */
  gradientRows: number;
}

/** rows + BACKWARD_COST · gradientRows. */
export function forwardEquivalents(count: ComputeCount): number {
  return count.rows + BACKWARD_COST * count.gradientRows;
}

/** Anything with the UNet's forward signature. */
export interface CountableDenoiser {
  forward(sample: Tensor, ...rest: unknown[]): Tensor;
}

/**
 * Counts the rows through a denoiser's `forward` while attached. `paused(fn)` runs work that is
 * not charged (evaluations).
 *
 * @example
 * ```ts
 * const meter = ComputeMeter.attach(pipe.components.unet);
 * await trainer.iteration();
 * console.log(meter.forwardEquivalents);
 * meter.detach();
 * ```
 */
export class ComputeMeter {
  rows = 0;
  gradientRows = 0;
  #pausedDepth = 0;
  readonly #detach: () => void;

  private constructor(detach: (meter: ComputeMeter) => () => void) {
    this.#detach = detach(this);
  }

  static attach(denoiser: CountableDenoiser): ComputeMeter {
    return new ComputeMeter((meter) => {
      const own = Object.hasOwn(denoiser, "forward");
      const original = denoiser.forward;
      denoiser.forward = function (this: CountableDenoiser, sample: Tensor, ...rest: unknown[]) {
        const out = original.call(this, sample, ...rest);
        meter.#record(sample.shape[0]!, out.requiresGrad);
        return out;
      };
      return () => {
        if (own) denoiser.forward = original;
        else delete (denoiser as Partial<CountableDenoiser>).forward;
      };
    });
  }

  #record(rows: number, hasGradient: boolean): void {
    if (this.#pausedDepth > 0) return;
    this.rows += rows;
    if (hasGradient) this.gradientRows += rows;
  }

  get count(): ComputeCount {
    return { rows: this.rows, gradientRows: this.gradientRows };
  }

  get forwardEquivalents(): number {
    return forwardEquivalents(this.count);
  }

  /** Sets the counts back to zero. */
  reset(): void {
    this.rows = 0;
    this.gradientRows = 0;
  }

  /** Runs `fn` without counting its rows. */
  async paused<T>(fn: () => Promise<T>): Promise<T> {
    this.#pausedDepth++;
    try {
      return await fn();
    } finally {
      this.#pausedDepth--;
    }
  }

  /** Restores the denoiser's own forward. */
  detach(): void {
    this.#detach();
  }
}
