// A small model with the layer kinds LoRAs adapt (a 3×3 Conv2d and attention-style Linears named
// like diffusers' to_q / to_k / to_out.0), plus host helpers shared by the tests.
import { add, Conv2d, Linear, loadTensorInto, Module, noGrad, permute, reshape, type Tensor, tensor } from "@spo/wgpu-tensor";
import { seededValues } from "@spo/wgpu-tensor/testing";
import type { LoraAdapter } from "../adapter/lora_adapter.ts";

export class ToyBlock extends Module {
  readonly to_q: Linear;
  readonly to_k: Linear;
  readonly to_out: Linear;
  constructor(dim: number, seed: number) {
    super();
    this.to_q = this.registerModule("to_q", new Linear(dim, dim, { bias: false, seed }));
    this.to_k = this.registerModule("to_k", new Linear(dim, dim, { bias: false, seed: seed + 1 }));
    this.to_out = this.registerModule("to_out.0", new Linear(dim, dim, { seed: seed + 2 }));
  }

  forward(x: Tensor): Tensor {
    return this.to_out.forward(add(this.to_q.forward(x), this.to_k.forward(x)));
  }
}

/** conv (channels → dim, 3×3, padding 1) → tokens [B, H·W, dim] → blocks. */
export class ToyModel extends Module {
  readonly proj_in: Conv2d;
  readonly blocks: ToyBlock[];
  constructor(
    readonly channels = 3,
    readonly dim = 8,
    blockCount = 2,
  ) {
    super();
    this.proj_in = this.registerModule("proj_in", new Conv2d(channels, dim, 3, { padding: 1, seed: 11 }));
    this.blocks = Array.from({ length: blockCount }, (_, i) => this.registerModule(`blocks.${i}`, new ToyBlock(dim, 20 + 3 * i)));
  }

  forward(x: Tensor): Tensor {
    const [batch, , height, width] = x.shape;
    const features = this.proj_in.forward(x);
    let tokens = permute(reshape(features, [batch, this.dim, height * width]), [0, 2, 1]);
    for (const block of this.blocks) tokens = block.forward(tokens);
    return tokens;
  }
}

/** Deterministic values in [-scale, scale) as a tensor. */
export function seededTensor(shape: number[], seed: number, scale = 1): Tensor {
  const count = shape.reduce((a, b) => a * b, 1);
  return tensor(Float32Array.from(seededValues(seed, count, -scale, scale)), shape);
}

/** Gives every LoRA matrix of the adapter seeded random values (B is zero after injection). */
export function randomizeLora(adapter: LoraAdapter, seed: number, scale = 0.3): void {
  noGrad(() => {
    let offset = 0;
    for (const [, p] of adapter.namedParameters()) {
      const values = seededTensor([...p.shape], seed + offset++, scale);
      loadTensorInto(p, values);
      values.dispose();
    }
  });
}

/** Every parameter's values by name. */
export async function parameterValues(module: Module): Promise<Map<string, Float32Array>> {
  const values = new Map<string, Float32Array>();
  for (const [name, p] of module.namedParameters()) values.set(name, Float32Array.from(await p.toArray()));
  return values;
}

/** Host y = x·Wᵀ (+ b) for x [n, in], W [out, in], in f64. */
export function hostLinear(
  x: ArrayLike<number>,
  rows: number,
  w: ArrayLike<number>,
  out: number,
  inFeatures: number,
  bias?: ArrayLike<number>,
): Float64Array {
  const y = new Float64Array(rows * out);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < out; o++) {
      let sum = bias ? bias[o] : 0;
      for (let i = 0; i < inFeatures; i++) sum += x[r * inFeatures + i] * w[o * inFeatures + i];
      y[r * out + o] = sum;
    }
  }
  return y;
}

export interface HostConvOptions {
  stride: number;
  padding: number;
  dilation: number;
}

/** Host NCHW convolution with weight [out, in, kH, kW], in f64. */
export function hostConv2d(
  x: ArrayLike<number>,
  [batch, inChannels, height, width]: readonly number[],
  w: ArrayLike<number>,
  [out, , kH, kW]: readonly number[],
  { stride, padding, dilation }: HostConvOptions,
  bias?: ArrayLike<number>,
): { data: Float64Array; shape: number[] } {
  const outH = Math.floor((height + 2 * padding - dilation * (kH - 1) - 1) / stride) + 1;
  const outW = Math.floor((width + 2 * padding - dilation * (kW - 1) - 1) / stride) + 1;
  const data = new Float64Array(batch * out * outH * outW);
  for (let b = 0; b < batch; b++) {
    for (let o = 0; o < out; o++) {
      for (let oy = 0; oy < outH; oy++) {
        for (let ox = 0; ox < outW; ox++) {
          let sum = bias ? bias[o] : 0;
          for (let c = 0; c < inChannels; c++) {
            for (let ky = 0; ky < kH; ky++) {
              const iy = oy * stride - padding + ky * dilation;
              if (iy < 0 || iy >= height) continue;
              for (let kx = 0; kx < kW; kx++) {
                const ix = ox * stride - padding + kx * dilation;
                if (ix < 0 || ix >= width) continue;
                sum += x[((b * inChannels + c) * height + iy) * width + ix] * w[((o * inChannels + c) * kH + ky) * kW + kx];
              }
            }
          }
          data[((b * out + o) * outH + oy) * outW + ox] = sum;
        }
      }
    }
  }
  return { data, shape: [batch, out, outH, outW] };
}
