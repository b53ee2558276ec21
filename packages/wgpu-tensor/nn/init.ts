import { Device } from "../device/device.ts";
import { keep, tidy } from "../memory/scope.ts";
import { full, zeros } from "../ops/creation/creation.ts";
import { mul, sub } from "../ops/elementwise/elementwise_ops.ts";
import { rand } from "../ops/random/random.ts";
import { cast } from "../ops/cast/cast.ts";
import { noGrad } from "../autograd/grad_mode.ts";
import { Tensor } from "../tensor/tensor.ts";
import type { Shape } from "../tensor/shape.ts";
import type { DType } from "../tensor/dtype.ts";

/**
 * How a layer fills its parameters at construction:
 * - `"default"`: PyTorch's defaults (uniform in ±1/√fan_in for Linear and Conv weights and biases,
 *   ones/zeros for norms), from a seeded Philox stream;
 * - `"zeros"`: zeros (cheap when weights are loaded right after);
 * - `"meta"`: shape only, no GPU memory until `loadStateDict` (for counting and checking models).
 */
export type InitMode = "default" | "zeros" | "meta";

export interface LayerOptions {
  init?: InitMode;
  device?: Device;
  dtype?: DType;
  /** Seed of the default initialisation (each parameter draws from its own offset). */
  seed?: number;
}

let nextInitOffset = 0;

/** A parameter drawn uniformly from [−bound, bound] (PyTorch's kaiming_uniform(a=√5) for weights). */
export function uniformParameter(shape: Shape, bound: number, options: LayerOptions): Tensor {
  const device = options.device ?? Device.default;
  if (options.init === "meta") return Tensor.meta(shape, options.dtype ?? "f32", device);
  if (options.init === "zeros") return zeros(shape, { device, dtype: options.dtype });
  const offset = nextInitOffset;
  nextInitOffset += Math.ceil(shape.reduce((a, b) => a * b, 1) / 4) + 1;
  return keep(
    noGrad(() =>
      tidy(() => {
        const values = mul(sub(rand(shape, { seed: options.seed ?? 0x5eed, offset, device }), 0.5), 2 * bound);
        return options.dtype && options.dtype !== "f32" ? cast(values, options.dtype) : values;
      }),
    ),
  );
}

/** A parameter filled with one value (norm scales and shifts). */
export function constantParameter(shape: Shape, value: number, options: LayerOptions): Tensor {
  const device = options.device ?? Device.default;
  if (options.init === "meta") return Tensor.meta(shape, options.dtype ?? "f32", device);
  return full(shape, options.init === "zeros" ? 0 : value, { device, dtype: options.dtype });
}

/** Just the initialisation fields of a larger options object (so model options never leak into layers). */
export function layerOptions(options: LayerOptions): LayerOptions {
  return { init: options.init, device: options.device, dtype: options.dtype, seed: options.seed };
}
