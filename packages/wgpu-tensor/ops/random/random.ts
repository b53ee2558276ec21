import { Device } from "../../device/device.ts";
import { bytesPerElement, type DType, f16BitsToF32, f32ToF16Bits } from "../../tensor/dtype.ts";
import { DTypeError } from "../../tensor/errors.ts";
import type { HostTensor } from "../../tensor/host_tensor.ts";
import { checkShape, type Shape, sizeOf } from "../../tensor/shape.ts";
import { Tensor } from "../../tensor/tensor.ts";
import type { OpDef } from "../op_def.ts";
import { boxMullerBits } from "./box_muller_reference.ts";
import { blocksFor, MAX_SEED, randomBitsReference } from "./philox_reference.ts";
import { type Distribution, randomKernel } from "./random_kernel.ts";

/** What a random tensor is: its shape, distribution, dtype, and where in the Philox stream it reads. */
export interface RandomAttrs {
  shape: Shape;
  distribution: Distribution;
  dtype: DType;
  /** Integer in [0, 2⁵³): the Philox key is (seed mod 2³², ⌊seed / 2³²⌋). */
  seed: number;
  /** First Philox block used, an integer ≥ 0; each block feeds four elements. */
  offset: number;
}

export interface RandomOptions {
  /**
   * Integer in [0, 2⁵³). The same seed gives the same numbers on every adapter and in JS. Without
   * one, a fresh seed is drawn from the platform's random source for each call (torch's `randn`
   * without `manual_seed`): pass a seed, or use a `RandomGenerator`, for reproducible numbers.
   */
  seed?: number;
  /** Philox block to start at (default 0); a tensor of n elements uses ⌈n/4⌉ blocks. */
  offset?: number;
  /** f32 (default) or f16. */
  dtype?: DType;
  device?: Device;
}

/** A seed in [0, 2⁵³) from `crypto.getRandomValues` (browsers and Node). */
function freshSeed(): number {
  const words = crypto.getRandomValues(new Uint32Array(2));
  return (words[0]! % 2 ** 21) * 2 ** 32 + words[1]!;
}

const f32View = new Float32Array(1);
const u32View = new Uint32Array(f32View.buffer);

function bitsToF32(bits: number): number {
  u32View[0] = bits;
  return f32View[0];
}

const ALLOWED_DTYPES: Record<Distribution, readonly DType[]> = {
  bits: ["u32"],
  uniform: ["f32", "f16"],
  normal: ["f32", "f16"],
};

const OP_NAMES: Record<Distribution, string> = { bits: "randomBits", uniform: "rand", normal: "randn" };

/** Validates before any GPU work; errors name the public function. */
function checkRandom(attrs: RandomAttrs): void {
  const name = OP_NAMES[attrs.distribution];
  checkShape(name, attrs.shape);
  if (!ALLOWED_DTYPES[attrs.distribution].includes(attrs.dtype)) {
    throw new DTypeError(
      name,
      [attrs.dtype],
      `Cannot run ${name} with dtype ${attrs.dtype}: it makes ${ALLOWED_DTYPES[attrs.distribution].join(" or ")}`,
    );
  }
  if (!Number.isInteger(attrs.seed) || attrs.seed < 0 || attrs.seed > MAX_SEED) {
    throw new RangeError(`Cannot run ${name} with seed ${attrs.seed}: it must be an integer in [0, 2^53)`);
  }
  const end = attrs.offset + blocksFor(sizeOf(attrs.shape));
  if (!Number.isInteger(attrs.offset) || attrs.offset < 0 || end > MAX_SEED) {
    throw new RangeError(`Cannot run ${name} at offset ${attrs.offset}: it must be an integer ≥ 0 with offset + blocks used below 2^53`);
  }
}

/** The plain-JS truth: the same Philox words and integer Box–Muller as the kernel, as f64 values. */
function referenceRandom(attrs: RandomAttrs): HostTensor {
  const size = sizeOf(attrs.shape);
  // whole blocks, so the pair partner of an odd tail exists
  const words = randomBitsReference(blocksFor(size) * 4, attrs.seed, attrs.offset);
  const data = new Float64Array(size);
  const isHalf = attrs.dtype === "f16";
  for (let i = 0; i < size; i++) {
    if (attrs.distribution === "bits") {
      data[i] = words[i];
    } else if (attrs.distribution === "uniform") {
      data[i] = isHalf ? (words[i] >>> 21) * 2 ** -11 : (words[i] >>> 8) * 2 ** -24;
    } else {
      const pairStart = i - (i % 2);
      const pair = boxMullerBits(words[pairStart], words[pairStart + 1]);
      const value = bitsToF32(pair[i % 2]);
      data[i] = isHalf ? f16BitsToF32(f32ToF16Bits(value)) : value;
    }
  }
  return { shape: [...attrs.shape], dtype: attrs.dtype, data };
}

/**
 * Random tensors as a primitive op with no tensor inputs: Philox 4x32-10 on the GPU, the same
 * words in plain JS as the reference. Not differentiable.
 */
export const randomOp: OpDef<RandomAttrs> = {
  name: "random",
  check(_inputs, attrs) {
    checkRandom(attrs);
    return { shape: attrs.shape, dtype: attrs.dtype };
  },
  kernel(_inputs, attrs) {
    return randomKernel({ ...attrs, size: sizeOf(attrs.shape) });
  },
  reference(_inputs, attrs) {
    return referenceRandom(attrs);
  },
  backward: "notDifferentiable",
};

/**
 * Runs the random op (it has no inputs, so it skips `runOp`): validate, allocate, dispatch. Outputs
 * larger than one storage binding (`maxStorageBufferBindingSize`, 128 MiB on lavapipe) are filled
 * window by window; window k starts at a multiple of 256 elements and reads the blocks from
 * offset + start/4, so the values are those of a single dispatch. `maxWindowBytes` is for tests.
 */
export function makeRandom(attrs: RandomAttrs, device: Device = Device.default, maxWindowBytes?: number): Tensor {
  const spec = randomOp.check([], attrs);
  device.assertUsable(OP_NAMES[attrs.distribution]);
  const out = Tensor.empty(spec.shape, spec.dtype, device);
  const size = out.size;
  const elementBytes = bytesPerElement(attrs.dtype);
  // a multiple of 256 elements keeps window offsets 256-byte aligned and on block boundaries
  const windowBytes = Math.min(maxWindowBytes ?? Infinity, device.maxBindingBytes);
  const windowElements = Math.max(256, Math.floor(windowBytes / elementBytes / 256) * 256);
  for (let start = 0; start < size; start += windowElements) {
    const count = Math.min(windowElements, size - start);
    const plan = randomKernel({ ...attrs, size: count, offset: attrs.offset + start / 4 });
    const kernel = device.pipelines.get(plan.key, plan.wgsl);
    // f16 is written as whole u32 words: the window ends on a 4-byte boundary
    const binding = { buffer: out.buffer, offset: start * elementBytes, size: Math.ceil((count * elementBytes) / 4) * 4 };
    device.queue.dispatch(kernel, plan.params, [binding], plan.workgroups);
  }
  return out;
}

/**
 * Uniform samples in [0, 1): element i is `(w >> 8) · 2⁻²⁴` for the Philox word w it reads (see
 * philox_reference.ts for which word), so every value is an exact multiple of 2⁻²⁴ and the same bits
 * come out on every adapter. f16 keeps the top 11 bits: `(w >> 21) · 2⁻¹¹`. No gradient.
 *
 * @example
 * ```ts
 * const u = rand([2, 3], { seed: 42 });           // f32, shape [2, 3]
 * const v = rand([6], { seed: 42 });              // the same six numbers, flat
 * const w = rand([6], { seed: 42, offset: 2 });   // starts at element 8 of that stream
 * ```
 */
export function rand(shape: Shape, options: RandomOptions = {}): Tensor {
  const { seed = freshSeed(), offset = 0, dtype = "f32", device } = options;
  return makeRandom({ shape, distribution: "uniform", dtype, seed, offset }, device);
}

/**
 * Standard normal samples by Box–Muller: elements 2k and 2k + 1 come from the Philox words a, b at
 * those positions as `r·cos 2πv` and `r·sin 2πv`, with `u = (⌊a/2⁹⌋ + ½) · 2⁻²³` ∈ (0, 1),
 * `r = √(−2 ln u)` and `v = ⌊b/2⁸⌋ · 2⁻²⁴`, computed in integer arithmetic so the bits are the same on
 * every adapter and in JS (box_muller_reference.ts). |z| ≤ √(2·24 ln 2) ≈ 5.77. f16 rounds the f32
 * value to nearest even. No gradient.
 *
 * @example
 * ```ts
 * const noise = randn([1, 4, 64, 64], { seed: 1234 }); // SD latents, the same in Node and browsers
 * ```
 */
export function randn(shape: Shape, options: RandomOptions = {}): Tensor {
  const { seed = freshSeed(), offset = 0, dtype = "f32", device } = options;
  return makeRandom({ shape, distribution: "normal", dtype, seed, offset }, device);
}

/**
 * The raw Philox 4x32-10 words as a u32 tensor: element i is word i mod 4 of block offset + ⌊i/4⌋,
 * keyed by the seed. What `rand` and `randn` are built from.
 *
 * @example
 * ```ts
 * const words = randomBits([4], { seed: 0 }); // Uint32Array [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]
 * ```
 */
export function randomBits(shape: Shape, options: Omit<RandomOptions, "dtype"> = {}): Tensor {
  const { seed = freshSeed(), offset = 0, device } = options;
  return makeRandom({ shape, distribution: "bits", dtype: "u32", seed, offset }, device);
}
