import { add, clamp, exp, mul, narrow, randn, ShapeError, type Tensor, tidy } from "@spo/wgpu-tensor";

/** The log-variance range diffusers clamps to (`DiagonalGaussianDistribution`). */
export const LOGVAR_RANGE = [-30, 20] as const;

/**
 * The VAE posterior q(z|x) = N(mean, std²), from the encoder's moments [B, 2C, h, w] (mean first,
 * log-variance second, clamped to [−30, 20]) exactly as diffusers' `DiagonalGaussianDistribution`.
 * Owns its three tensors: `dispose()` them when done.
 *
 * @example
 * ```ts
 * const posterior = vae.encode(image);
 * const z = posterior.sample({ seed: 42 }); // mean + std·ε, or posterior.mode() for the mean
 * posterior.dispose();
 * ```
 */
export class DiagonalGaussianDistribution {
  readonly mean: Tensor;
  readonly logvar: Tensor;
  readonly std: Tensor;

  constructor(moments: Tensor) {
    const channels = moments.shape[1];
    if (moments.ndim !== 4 || channels % 2 !== 0) {
      throw new ShapeError(
        "DiagonalGaussianDistribution",
        [moments.shape],
        `Cannot split moments of shape [${moments.shape.join(", ")}] into mean and log-variance: expected [batch, 2·channels, height, width]`,
      );
    }
    const parts = tidy(() => {
      const half = channels / 2;
      const mean = narrow(moments, 1, 0, half);
      const logvar = clamp(narrow(moments, 1, half, half), LOGVAR_RANGE[0], LOGVAR_RANGE[1]);
      const std = exp(mul(logvar, 0.5));
      return { mean, logvar, std };
    });
    this.mean = parts.mean;
    this.logvar = parts.logvar;
    this.std = parts.std;
  }

  /** mean + std·ε, with ε given (same shape as the mean) or drawn from a seeded N(0, 1). */
  sample(noise: Tensor | { seed: number; offset?: number }): Tensor {
    if ("shape" in noise && noise.shape.join(",") !== this.mean.shape.join(",")) {
      throw new ShapeError(
        "DiagonalGaussianDistribution.sample",
        [noise.shape, this.mean.shape],
        `Cannot sample with noise of shape [${noise.shape.join(", ")}]: it must match the mean [${this.mean.shape.join(", ")}]`,
      );
    }
    return tidy(() => {
      const epsilon =
        "shape" in noise ? noise : randn(this.mean.shape, { seed: noise.seed, offset: noise.offset, device: this.mean.device });
      return add(this.mean, mul(this.std, epsilon));
    });
  }

  /** The most likely latent: the mean (a new reference the caller may dispose separately). */
  mode(): Tensor {
    return tidy(() => add(this.mean, 0));
  }

  dispose(): void {
    this.mean.dispose();
    this.logvar.dispose();
    this.std.dispose();
  }
}
