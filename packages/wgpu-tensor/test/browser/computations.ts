/**
 * Computations run both in Node (dawn.node) and in Chromium (browser WebGPU) by browser_test.ts,
 * which compares the two results. This file is the browser bundle's entry, so it imports only
 * browser-safe modules (no Node built-ins, no testing/mod.ts).
 *
 * To cover another kernel, add one entry to `computations`: a name, how to compare (`"exact"` for
 * integer and RNG outputs, a tolerance for float math that drivers may round differently), and a
 * function that builds the result on the device it is given.
 * @module
 */
import { Device } from "../../device/device.ts";
import { tidy } from "../../memory/scope.ts";
import { arange, full, tensor } from "../../ops/creation/creation.ts";
import { add, exp, gelu, mul, sigmoid, sub } from "../../ops/elementwise/elementwise_ops.ts";
import { rand, randn, randomBits } from "../../ops/random/random.ts";
import { RandomGenerator } from "../../ops/random/random_generator.ts";
import type { DType } from "../../tensor/dtype.ts";
import { sizeOf } from "../../tensor/shape.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { type Tolerance, toleranceFor } from "../../testing/assert_close.ts";

/** What a computation returns: a read-back tensor. */
export interface ComputationResult {
  dtype: DType;
  shape: number[];
  data: Float32Array | Int32Array | Uint32Array;
}

export interface Computation {
  /** `"exact"`: identical bits in both environments; otherwise allclose with this tolerance. */
  compare: "exact" | Tolerance;
  /** Builds the output on `device` (the default device at the time). */
  build(device: Device): Tensor;
}

/** Deterministic inputs in [low, high): the same numbers in Node and the page (mulberry32). */
function input(shape: number[], seed: number, low = -2, high = 2, device?: Device): Tensor {
  let state = seed >>> 0;
  const values = new Float32Array(sizeOf(shape));
  for (let i = 0; i < values.length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    values[i] = low + (high - low) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return tensor(values, shape, { device });
}

// WGSL allows exp 3 + 2|x| ULPs (11 at |x| = 4); two drivers may err in opposite directions, so
// up to ~22 ULPs apart: factor 4 gives 32. (Measured llvmpipe vs SwiftShader: at most 2e-7 relative.)
const transcendental = toleranceFor("f32", 1, 4);
const arithmetic = toleranceFor("f32", 1, 2);

/** Every computation compared between Node and Chromium. Add kernels here, one line each. */
export const computations: Record<string, Computation> = {
  "add broadcasts [3, 1, 5] with [4, 1]": {
    compare: arithmetic,
    build: (d) => add(input([3, 1, 5], 1, -2, 2, d), input([4, 1], 2, -2, 2, d)),
  },
  "mul broadcasts a row over a [33, 17] matrix": {
    compare: arithmetic,
    build: (d) => mul(input([33, 17], 3, -2, 2, d), input([17], 4, -2, 2, d)),
  },
  "exp of [5, 7]": { compare: transcendental, build: (d) => exp(input([5, 7], 5, -4, 4, d)) },
  "gelu of [257]": { compare: transcendental, build: (d) => gelu(input([257], 6, -4, 4, d)) },
  "sigmoid(a·b − 1) chain": {
    compare: transcendental,
    build: (d) => sigmoid(sub(mul(input([9, 11], 7, -2, 2, d), input([11], 8, -2, 2, d)), 1)),
  },
  "full [3, 5] of 2.5": { compare: "exact", build: (d) => full([3, 5], 2.5, { device: d }) },
  "arange i32 from −7 to 40 step 3": { compare: "exact", build: (d) => arange(-7, 40, 3, { device: d }) },
  "arange f32 from 0 to 2 step 0.125": { compare: "exact", build: (d) => arange(0, 2, 0.125, { device: d }) },
  "randomBits [1000] across a counter carry": {
    compare: "exact",
    build: (d) => randomBits([1000], { seed: 2 ** 40 + 5, offset: 2 ** 32 - 100, device: d }),
  },
  "rand [7, 13]": { compare: "exact", build: (d) => rand([7, 13], { seed: 42, device: d }) },
  "rand f16 [3, 3]": { compare: "exact", build: (d) => rand([3, 3], { seed: 42, dtype: "f16", device: d }) },
  "randn [2, 4, 32, 32] (latent noise)": { compare: "exact", build: (d) => randn([2, 4, 32, 32], { seed: 1234, device: d }) },
  "randn f16 [17]": { compare: "exact", build: (d) => randn([17], { seed: 7, offset: 3, dtype: "f16", device: d }) },
  "RandomGenerator's third draw": {
    compare: "exact",
    build: (d) => {
      const generator = new RandomGenerator(99, { device: d });
      return tidy(() => {
        generator.randn([10]);
        generator.rand([3]);
        return generator.randn([5, 5]);
      });
    },
  },
};

/** Runs one computation on `device` and reads its result back, freeing every tensor it made. */
export async function runComputation(name: string, device: Device): Promise<ComputationResult> {
  const computation = computations[name];
  if (!computation) throw new RangeError(`Cannot run computation "${name}": there is none by that name`);
  const output = tidy(() => computation.build(device));
  try {
    return { dtype: output.dtype, shape: [...output.shape], data: await output.toArray() };
  } finally {
    output.dispose();
  }
}

let pageDevice: Promise<Device> | null = null;

function browserDevice(): Promise<Device> {
  pageDevice ??= Device.create();
  return pageDevice;
}

/** Page side: runs a computation on the page's WebGPU device. */
export async function runInPage(name: string): Promise<ComputationResult> {
  return runComputation(name, await browserDevice());
}

/** Page side: what adapter the page's device runs on. */
export async function pageAdapter(): Promise<{
  vendor: string;
  architecture: string;
  description: string;
  isCpu: boolean;
  features: string[];
  userAgent: string;
}> {
  const device = await browserDevice();
  return { ...device.adapter, features: [...device.features].sort(), userAgent: navigator.userAgent };
}

/** Page side: whether WebGPU is there before any of our code asks for it. */
export function hasNavigatorGpu(): boolean {
  return typeof navigator !== "undefined" && "gpu" in navigator;
}
