import type { Device } from "../../device/device.ts";
import type { DType } from "../../tensor/dtype.ts";
import { checkShape, type Shape, sizeOf } from "../../tensor/shape.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { blocksFor, MAX_SEED } from "./philox_reference.ts";
import { rand, randn, randomBits } from "./random.ts";

/** Where a generator is in its stream; enough to replay it (`setState`). */
export interface GeneratorState {
  seed: number;
  /** Philox blocks consumed so far. */
  offset: number;
}

export interface GeneratorOptions {
  /** Start at this Philox block instead of 0. */
  offset?: number;
  /** Device for the tensors it makes (default: the default device). */
  device?: Device;
}

/**
 * A seeded stream of random tensors, like `torch.Generator` on CUDA (Philox seed + offset): each draw
 * reads the blocks after the previous one, so a sampler that draws many noise tensors gets the same
 * sequence every run, in Node and in browsers. A draw of n elements advances the offset by ⌈n/4⌉.
 * A draw depends only on the seed, the offset at the time and the element count, never on the shape.
 *
 * @example
 * ```ts
 * const generator = new RandomGenerator(1234);
 * const latents = generator.randn([1, 4, 64, 64]); // blocks 0 … 4095
 * const noise = generator.randn([1, 4, 64, 64]);   // blocks 4096 … 8191
 * generator.getState();                            // { seed: 1234, offset: 8192 }
 * ```
 */
export class RandomGenerator {
  #seed: number;
  #offset: number;
  readonly #device: Device | undefined;

  constructor(seed: number, options: GeneratorOptions = {}) {
    checkSeed(seed);
    const offset = options.offset ?? 0;
    checkOffset(offset);
    this.#seed = seed;
    this.#offset = offset;
    this.#device = options.device;
  }

  /** The seed the stream was (re)started with (`torch.Generator.initial_seed`). */
  get seed(): number {
    return this.#seed;
  }

  /** Philox blocks consumed so far; the next draw starts here. */
  get offset(): number {
    return this.#offset;
  }

  /** Restarts the stream from `seed` at offset 0 (`torch.Generator.manual_seed`). */
  manualSeed(seed: number): this {
    checkSeed(seed);
    this.#seed = seed;
    this.#offset = 0;
    return this;
  }

  getState(): GeneratorState {
    return { seed: this.#seed, offset: this.#offset };
  }

  setState(state: GeneratorState): this {
    checkSeed(state.seed);
    checkOffset(state.offset);
    this.#seed = state.seed;
    this.#offset = state.offset;
    return this;
  }

  /** Uniform samples in [0, 1) (see `rand`); advances the offset. */
  rand(shape: Shape, options: { dtype?: DType } = {}): Tensor {
    const offset = this.#take("rand", shape);
    return rand(shape, { seed: this.#seed, offset, dtype: options.dtype, device: this.#device });
  }

  /** Standard normal samples (see `randn`); advances the offset. */
  randn(shape: Shape, options: { dtype?: DType } = {}): Tensor {
    const offset = this.#take("randn", shape);
    return randn(shape, { seed: this.#seed, offset, dtype: options.dtype, device: this.#device });
  }

  /** Raw Philox words (see `randomBits`); advances the offset. */
  randomBits(shape: Shape): Tensor {
    const offset = this.#take("randomBits", shape);
    return randomBits(shape, { seed: this.#seed, offset, device: this.#device });
  }

  /** Reserves the blocks of one draw and returns where they start. */
  #take(op: string, shape: Shape): number {
    checkShape(op, shape);
    const start = this.#offset;
    const end = start + blocksFor(sizeOf(shape));
    if (end > MAX_SEED) throw new RangeError(`Cannot run ${op}: the generator's offset would pass 2^53`);
    this.#offset = end;
    return start;
  }
}

function checkSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    throw new RangeError(`Cannot seed a RandomGenerator with ${seed}: the seed must be an integer in [0, 2^53)`);
  }
}

function checkOffset(offset: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset > MAX_SEED) {
    throw new RangeError(`Cannot set a RandomGenerator offset of ${offset}: it must be an integer in [0, 2^53)`);
  }
}
