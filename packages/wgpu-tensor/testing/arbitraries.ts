import fc from "fast-check";
import type { DType } from "../tensor/dtype.ts";
import type { HostTensor } from "../tensor/host_tensor.ts";
import { sizeOf } from "../tensor/shape.ts";

/** Runs per property: small by default, a sweep with SPO_FC_RUNS=1000. */
export function fcRuns(defaultRuns = 12): number {
  const fromEnv = Number(typeof process !== "undefined" ? process.env.SPO_FC_RUNS : undefined);
  return Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : defaultRuns;
}

/**
 * Dimension sizes that break kernels: 1, primes, tile sizes ± 1, and small random ones.
 */
export function arbDim(maxDim = 70): fc.Arbitrary<number> {
  const awkward = [1, 2, 3, 5, 7, 8, 9, 13, 15, 16, 17, 31, 32, 33, 63, 64, 65].filter((d) => d <= maxDim);
  return fc.oneof(fc.constantFrom(...awkward), fc.integer({ min: 1, max: maxDim }));
}

export function arbShape(options: { minRank?: number; maxRank?: number; maxDim?: number; maxSize?: number } = {}): fc.Arbitrary<number[]> {
  const { minRank = 0, maxRank = 4, maxDim = 40, maxSize = 20000 } = options;
  return fc.array(arbDim(maxDim), { minLength: minRank, maxLength: maxRank }).filter((shape) => sizeOf(shape) <= maxSize);
}

/** Two shapes that broadcast together: dims of one replaced by 1 or dropped from the front. */
export function arbBroadcastPair(options: { maxRank?: number; maxDim?: number } = {}): fc.Arbitrary<[number[], number[]]> {
  return arbShape({ minRank: 0, maxRank: options.maxRank ?? 4, maxDim: options.maxDim ?? 24 }).chain((full) =>
    fc
      .tuple(
        fc.array(fc.boolean(), { minLength: full.length, maxLength: full.length }),
        fc.integer({ min: 0, max: full.length }),
        fc.boolean(),
      )
      .map(([ones, drop, swap]) => {
        const other = full.map((dim, i) => (ones[i] ? 1 : dim)).slice(drop);
        return (swap ? [other, full] : [full, other]) as [number[], number[]];
      }),
  );
}

/** Deterministic pseudo-random values in [low, high) from a seed (mulberry32). */
export function seededValues(seed: number, count: number, low = -1, high = 1): Float64Array {
  let state = seed >>> 0;
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const unit = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out[i] = low + (high - low) * unit;
  }
  return out;
}

/**
 * A host tensor of seeded random values, rounded to what the dtype can hold (so the GPU and the
 * reference see identical inputs).
 */
export function randomHost(
  shape: readonly number[],
  seed: number,
  options: { dtype?: DType; low?: number; high?: number } = {},
): HostTensor {
  const dtype = options.dtype ?? "f32";
  const values = seededValues(seed, sizeOf(shape), options.low ?? -1, options.high ?? 1);
  if (dtype === "f32") {
    const rounded = Float32Array.from(values);
    values.set(rounded);
  } else if (dtype === "f16") {
    for (let i = 0; i < values.length; i++) values[i] = Math.fround(Math.round(values[i] * 1024) / 1024);
  } else {
    for (let i = 0; i < values.length; i++) values[i] = Math.floor(values[i]);
  }
  return { shape: [...shape], dtype, data: values };
}
