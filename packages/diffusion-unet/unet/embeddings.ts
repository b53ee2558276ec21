import { Device, Linear, type LayerOptions, Module, silu, type Tensor, tensor, tidy } from "@spo/wgpu-tensor";

/**
 * The sinusoidal timestep embedding of diffusers' `Timesteps` (LDM's `timestep_embedding`), computed
 * on the host because timesteps are host numbers and the arguments t·fᵢ reach ~1000, where GPU
 * sin/cos are allowed large errors:
 *   fᵢ = exp(−ln(10000)·i / (half − shift)),  emb = [sin(t·f) | cos(t·f)]  (halves swapped if flipSinToCos)
 * Frequencies and arguments are rounded to f32 as torch computes them.
 */
export function timestepProjection(
  timesteps: readonly number[],
  dim: number,
  flipSinToCos: boolean,
  freqShift: number,
  device: Device = Device.default,
): Tensor {
  const half = Math.floor(dim / 2);
  const f = Math.fround;
  const logMaxPeriod = f(Math.log(10000));
  const frequencies = Array.from({ length: half }, (_, i) => f(Math.exp(f(f(-logMaxPeriod * i) / (half - freqShift)))));
  const values = new Float32Array(timesteps.length * dim);
  timesteps.forEach((t, row) => {
    for (let i = 0; i < half; i++) {
      const angle = f(f(t) * frequencies[i]);
      const sine = Math.sin(angle);
      const cosine = Math.cos(angle);
      values[row * dim + i] = flipSinToCos ? cosine : sine;
      values[row * dim + half + i] = flipSinToCos ? sine : cosine;
    }
  });
  return tensor(values, [timesteps.length, dim], { device });
}

/** `time_embedding`: linear_1 → SiLU → linear_2. */
export class TimestepEmbedding extends Module {
  readonly linear_1: Linear;
  readonly linear_2: Linear;

  constructor(inChannels: number, timeEmbedDim: number, options: LayerOptions = {}) {
    super();
    this.linear_1 = this.registerModule("linear_1", new Linear(inChannels, timeEmbedDim, options));
    this.linear_2 = this.registerModule("linear_2", new Linear(timeEmbedDim, timeEmbedDim, options));
  }

  forward(x: Tensor): Tensor {
    return tidy(() => this.linear_2.forward(silu(this.linear_1.forward(x))));
  }
}
