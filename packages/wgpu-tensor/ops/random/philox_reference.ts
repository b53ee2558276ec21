/**
 * Philox 4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011) in plain
 * JS, bit-exact with the WGSL kernel and with Random123's `philox4x32_R(10, …)`.
 *
 * How a random tensor maps to Philox calls (the whole contract, the same in Node and browsers):
 * - `key = [seed mod 2³², ⌊seed / 2³²⌋]`, for any integer seed in [0, 2⁵³).
 * - element `i` of the flat (row-major) tensor reads word `i mod 4` of block `n = offset + ⌊i / 4⌋`,
 *   whose counter is `[n mod 2³², ⌊n / 2³²⌋, 0, 0]`. `offset` counts blocks (4 words each).
 * - a tensor of `size` elements therefore uses `⌈size / 4⌉` blocks, whatever its shape.
 * @module
 */

/** Round multipliers of Philox 4x32 (Random123 `PHILOX_M4x32_0/1`). */
export const PHILOX_M0 = 0xd2511f53;
export const PHILOX_M1 = 0xcd9e8d57;
/** Weyl sequence added to the key between rounds (golden ratio, √3 − 1; `PHILOX_W32_0/1`). */
export const PHILOX_W0 = 0x9e3779b9;
export const PHILOX_W1 = 0xbb67ae85;
export const PHILOX_ROUNDS = 10;

/** Largest seed or offset accepted: integers must be exact JS numbers. */
export const MAX_SEED = Number.MAX_SAFE_INTEGER;

/** High 32 bits of the 64-bit product of two u32, exact: 16-bit halves keep every product below 2⁵³. */
export function mulhi32(a: number, b: number): number {
  const aLo = a & 0xffff;
  const aHi = a >>> 16;
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  const loLo = aLo * bLo;
  const hiLo = aHi * bLo;
  const loHi = aLo * bHi;
  const hiHi = aHi * bHi;
  // below 2³² by construction (see the WGSL twin in philox_wgsl.ts)
  const cross = (loLo >>> 16) + (hiLo & 0xffff) + loHi;
  return (hiHi + (hiLo >>> 16) + Math.floor(cross / 65536)) >>> 0;
}

/** Low 32 bits of the product of two u32. */
export function mullo32(a: number, b: number): number {
  return Math.imul(a, b) >>> 0;
}

/**
 * The Philox 4x32 bijection with `rounds` rounds (10 is the standard, crush-resistant choice):
 * four u32 counter words and two u32 key words in, four u32 words out.
 *
 * @example
 * ```ts
 * philox4x32([0, 0, 0, 0], [0, 0]); // [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]
 * ```
 */
export function philox4x32(
  counter: readonly [number, number, number, number] | readonly number[],
  key: readonly [number, number] | readonly number[],
  rounds = PHILOX_ROUNDS,
): [number, number, number, number] {
  let c0 = counter[0] >>> 0;
  let c1 = counter[1] >>> 0;
  let c2 = counter[2] >>> 0;
  let c3 = counter[3] >>> 0;
  let k0 = key[0] >>> 0;
  let k1 = key[1] >>> 0;
  for (let round = 0; round < rounds; round++) {
    if (round > 0) {
      k0 = (k0 + PHILOX_W0) >>> 0;
      k1 = (k1 + PHILOX_W1) >>> 0;
    }
    const hi0 = mulhi32(PHILOX_M0, c0);
    const lo0 = mullo32(PHILOX_M0, c0);
    const hi1 = mulhi32(PHILOX_M1, c2);
    const lo1 = mullo32(PHILOX_M1, c2);
    const next0 = (hi1 ^ c1 ^ k0) >>> 0;
    const next2 = (hi0 ^ c3 ^ k1) >>> 0;
    c0 = next0;
    c1 = lo1;
    c2 = next2;
    c3 = lo0;
  }
  return [c0, c1, c2, c3];
}

/** Splits a non-negative integer below 2⁵³ into [low 32 bits, high 32 bits]. */
export function splitU64(value: number): [number, number] {
  const low = value % 4294967296;
  return [low >>> 0, Math.floor(value / 4294967296) >>> 0];
}

/** The Philox key of a seed: `[seed mod 2³², ⌊seed / 2³²⌋]`. */
export function seedKey(seed: number): [number, number] {
  return splitU64(seed);
}

/**
 * The raw u32 stream of a random tensor: `size` words for `seed` starting at block `offset`
 * (element i is word i mod 4 of block offset + ⌊i/4⌋).
 *
 * @example
 * ```ts
 * randomBitsReference(6, 0, 0); // block 0's four words, then the first two of block 1
 * ```
 */
export function randomBitsReference(size: number, seed: number, offset: number): Uint32Array {
  const key = seedKey(seed);
  const out = new Uint32Array(size);
  for (let block = 0; block * 4 < size; block++) {
    const [low, high] = splitU64(offset + block);
    const words = philox4x32([low, high, 0, 0], key);
    for (let lane = 0; lane < 4 && block * 4 + lane < size; lane++) out[block * 4 + lane] = words[lane];
  }
  return out;
}

/** Number of Philox blocks a tensor of `size` elements uses: ⌈size / 4⌉. */
export function blocksFor(size: number): number {
  return Math.ceil(size / 4);
}
