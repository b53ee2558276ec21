import { cast, type LayerOptions, Linear, Module, silu, type Tensor, tensor, tidy } from "@spo/wgpu-tensor";

const MAX_PERIOD = 10_000;

/**
 * DiT's sinusoidal timestep embedding, as SPO's `t_embedder` computes it in float32:
 * freqᵢ = exp(−ln(10000)·i/half) for i < half = dim/2, argᵢ = t·freqᵢ, embedding = [cos(arg) | sin(arg)]
 * (cos first), a zero column appended when `dim` is odd. Timesteps are raw diffusion steps (0…999).
 * Computed on the host with the same f32 roundings as PyTorch (the values are tiny: B × dim).
 *
 * @example
 * ```ts
 * timestepSinusoid([0], 4); // Float32Array [1, 1, 0, 0]
 * ```
 */
export function timestepSinusoid(timesteps: readonly number[], dim: number): Float32Array {
  const half = Math.floor(dim / 2);
  const freqs = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    // torch: exp(-math.log(max_period) * arange(half, f32) / half), each step rounded to f32
    freqs[i] = Math.fround(Math.exp(Math.fround(Math.fround(-Math.log(MAX_PERIOD) * i) / half)));
  }
  const out = new Float32Array(timesteps.length * dim);
  timesteps.forEach((t, row) => {
    const base = row * dim;
    for (let i = 0; i < half; i++) {
      const arg = Math.fround(Math.fround(t) * freqs[i]);
      out[base + i] = Math.cos(arg);
      out[base + half + i] = Math.sin(arg);
    }
  });
  return out;
}

/** `t_embedder.mlp`: Linear(freq → hidden), SiLU, Linear(hidden → hidden), named `0` and `2` as the nn.Sequential. */
class TimestepMlp extends Module {
  readonly first: Linear;
  readonly second: Linear;

  constructor(frequencyEmbeddingSize: number, hiddenSize: number, options: LayerOptions) {
    super();
    this.first = this.registerModule("0", new Linear(frequencyEmbeddingSize, hiddenSize, options));
    this.second = this.registerModule("2", new Linear(hiddenSize, hiddenSize, options));
  }

  forward(x: Tensor): Tensor {
    return tidy(() => this.second.forward(silu(this.first.forward(x))));
  }
}

/**
 * SPO's (DiT's) `TimestepEmbedder`: t → sinusoid(t, 256) → Linear → SiLU → Linear, giving the
 * [B, hidden] conditioning every adaLN modulation reads.
 *
 * @example
 * ```ts
 * const embedder = new TimestepEmbedder(1280);
 * embedder.forward([999, 501]).shape; // [2, 1280]
 * ```
 */
export class TimestepEmbedder extends Module {
  readonly frequencyEmbeddingSize: number;
  readonly mlp: TimestepMlp;
  readonly #options: LayerOptions;

  constructor(hiddenSize: number, frequencyEmbeddingSize = 256, options: LayerOptions = {}) {
    super();
    this.frequencyEmbeddingSize = frequencyEmbeddingSize;
    this.#options = options;
    this.mlp = this.registerModule("mlp", new TimestepMlp(frequencyEmbeddingSize, hiddenSize, options));
  }

  /** timesteps (B numbers, already checked) → [B, hidden] in the parameters' dtype. */
  forward(timesteps: readonly number[]): Tensor {
    return tidy(() => {
      const weight = this.mlp.first.weight;
      const frequencies = tensor(
        timestepSinusoid(timesteps, this.frequencyEmbeddingSize),
        [timesteps.length, this.frequencyEmbeddingSize],
        {
          device: weight.device,
        },
      );
      const input = weight.dtype === "f32" ? frequencies : cast(frequencies, weight.dtype);
      return this.mlp.forward(input);
    });
  }

  /** The options the layers were made with (for re-initialisation). */
  get layerOptions(): LayerOptions {
    return this.#options;
  }
}
