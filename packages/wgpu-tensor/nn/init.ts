import { Device } from "../device/device.ts";
import { tidy } from "../memory/scope.ts";
import { fillInPlace } from "../ops/creation/creation.ts";
import { mul, sub } from "../ops/elementwise/elementwise_ops.ts";
import { rand } from "../ops/random/random.ts";
import { cast } from "../ops/cast/cast.ts";
import { noGrad } from "../autograd/grad_mode.ts";
import { Tensor } from "../tensor/tensor.ts";
import type { Shape } from "../tensor/shape.ts";
import type { DType } from "../tensor/dtype.ts";
import { loadTensorInto } from "./module.ts";

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
  /** The running offset of a seeded model build (made by {@link withInitStream}; layers share it). */
  initStream?: InitStream;
}

/** A seed's Philox stream and the offset its next parameter draws from. */
export interface InitStream {
  readonly seed: number;
  offset: number;
}

// Layers built without a seeded stream draw from one process-wide sequence, so two unseeded
// builds differ (as two PyTorch builds without reseeding do).
const unseeded: InitStream = { seed: 0x5eed, offset: 0 };

/**
 * The options of a model build with its own init stream when a `seed` is given: the model's
 * weights then depend on the seed alone, not on what was built before it in the process (as
 * `torch.manual_seed(seed)` right before building). Top-level models call it first thing; nested
 * modules see the stream already there and share it.
 */
export function withInitStream<T extends LayerOptions>(options: T): T & Pick<LayerOptions, "initStream"> {
  if (options.seed === undefined || options.initStream !== undefined) return options;
  return { ...options, initStream: { seed: options.seed, offset: 0 } };
}

/** A parameter drawn uniformly from [−bound, bound] (PyTorch's kaiming_uniform(a=√5) for weights). */
export function uniformParameter(shape: Shape, bound: number, options: LayerOptions): Tensor {
  const device = options.device ?? Device.default;
  if (options.init === "meta") return Tensor.meta(shape, options.dtype ?? "f32", device);
  if (options.init === "zeros") return filledParameter(shape, 0, options.dtype ?? "f32", device);
  const stream = options.initStream ?? unseeded;
  const seed = options.initStream?.seed ?? options.seed ?? unseeded.seed;
  const offset = stream.offset;
  stream.offset += Math.ceil(shape.reduce((a, b) => a * b, 1) / 4) + 1; // Philox yields 4 values per offset
  return asParameter(
    noGrad(() =>
      tidy(() => {
        const values = mul(sub(rand(shape, { seed, offset, device }), 0.5), 2 * bound);
        return options.dtype && options.dtype !== "f32" ? cast(values, options.dtype) : values;
      }),
    ),
  );
}

/**
 * `values` moved into storage sized to the data (see Tensor.materialize), not a pool bucket: a
 * model keeps its parameters for life, and the buckets' slack was 13 % of SD1.5's weights.
 */
function asParameter(values: Tensor): Tensor {
  const parameter = Tensor.meta(values.shape, values.dtype, values.device);
  loadTensorInto(parameter, values);
  values.dispose();
  return parameter;
}

/** A parameter at its own size holding one value, filled in place (no temporary copy). */
function filledParameter(shape: Shape, value: number, dtype: DType, device: Device): Tensor {
  return fillInPlace(Tensor.meta(shape, dtype, device).materialize(), value);
}

/** A parameter filled with one value (norm scales and shifts). */
export function constantParameter(shape: Shape, value: number, options: LayerOptions): Tensor {
  const device = options.device ?? Device.default;
  if (options.init === "meta") return Tensor.meta(shape, options.dtype ?? "f32", device);
  return filledParameter(shape, options.init === "zeros" ? 0 : value, options.dtype ?? "f32", device);
}

/** Just the initialisation fields of a larger options object (so model options never leak into layers). */
export function layerOptions(options: LayerOptions): LayerOptions {
  return { init: options.init, device: options.device, dtype: options.dtype, seed: options.seed, initStream: options.initStream };
}
