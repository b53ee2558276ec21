/** Median and spread of repeated timings, in milliseconds. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  /** First and third quartile (linear interpolation); equal to min/max for fewer than 4 samples. */
  q1: number;
  q3: number;
  count: number;
}

/**
 * Summarises samples (at least one).
 *
 * @example
 * ```ts
 * summarize([3, 1, 2]); // { median: 2, min: 1, max: 3, q1: 1, q3: 3, count: 3 }
 * ```
 */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new RangeError("Cannot summarise timings: there are no samples");
  const sorted = [...samples].sort((a, b) => a - b);
  const min = sorted[0];
  const max = sorted[sorted.length - 1];
  const hasQuartiles = sorted.length >= 4;
  return {
    median: quantile(sorted, 0.5),
    min,
    max,
    q1: hasQuartiles ? quantile(sorted, 0.25) : min,
    q3: hasQuartiles ? quantile(sorted, 0.75) : max,
    count: sorted.length,
  };
}

/** The q-quantile of sorted values, interpolating linearly between neighbours. */
export function quantile(sorted: readonly number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
}
