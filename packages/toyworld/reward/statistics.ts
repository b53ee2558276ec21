/** A mean with its normal-approximation 95 % confidence interval (mean ± 1.96 · s / √n). */
export interface MeanWithInterval {
  mean: number;
  low: number;
  high: number;
  n: number;
}

/** Mean and 95 % confidence interval of a sample (at least two values for an interval). */
export function meanWithInterval(values: ArrayLike<number>): MeanWithInterval {
  const n = values.length;
  if (n === 0) throw new RangeError("Cannot average an empty sample");
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i]!;
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (values[i]! - mean) ** 2;
  const half = n > 1 ? 1.96 * Math.sqrt(squares / (n - 1) / n) : Number.NaN;
  return { mean, low: mean - half, high: mean + half, n };
}
