/**
 * A small seeded generator (SplitMix32) for the world's choices: which scene, where, how big.
 * Host-side only; the GPU noise of the models comes from @spo/wgpu-tensor's Philox generator.
 */
export class WorldRandom {
  #state: number;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new TypeError(`Cannot seed WorldRandom: seed must be an integer, got ${seed}`);
    this.#state = seed >>> 0;
  }

  /** A uniform number in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x9e3779b9) >>> 0;
    let z = this.#state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  }

  /** A uniform number in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A uniformly chosen element. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}
