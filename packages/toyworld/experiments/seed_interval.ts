/**
 * Confidence intervals for the experiments: a mean over a handful of training seeds needs
 * Student's t (with 3 seeds the 97.5 % quantile is 4.30, not 1.96), and a comparison of two
 * methods trained from the same seeds is a paired one (the difference per seed).
 *
 * @module
 */

import type { MeanWithInterval } from "../reward/statistics.ts";

// 97.5 % quantiles of Student's t for 1…30 degrees of freedom (two-sided 95 %)
const T_975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086,
  2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** The two-sided 95 % critical value of Student's t with `df` degrees of freedom (1.96 beyond 30). */
export function studentT95(df: number): number {
  if (!Number.isInteger(df) || df < 1)
    throw new RangeError(`Cannot give a t quantile for ${df} degrees of freedom: expected an integer ≥ 1`);
  return df <= T_975.length ? T_975[df - 1]! : 1.96;
}

/**
 * Mean of a few values (one per seed) with a 95 % Student-t interval; with one value the
 * interval is NaN (unknown), never zero.
 */
export function meanWithTInterval(values: readonly number[]): MeanWithInterval {
  const n = values.length;
  if (n === 0) throw new RangeError("Cannot average an empty list of per-seed values");
  if (!values.every(Number.isFinite)) throw new RangeError(`Cannot average per-seed values with a non-finite entry: ${values.join(", ")}`);
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, low: Number.NaN, high: Number.NaN, n };
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1);
  const half = studentT95(n - 1) * Math.sqrt(variance / n);
  return { mean, low: mean - half, high: mean + half, n };
}

/** The paired difference a − b over matching seeds, with its 95 % t interval. */
export function pairedDifference(a: readonly number[], b: readonly number[]): MeanWithInterval {
  if (a.length !== b.length) throw new RangeError(`Cannot pair ${a.length} values with ${b.length}`);
  return meanWithTInterval(a.map((v, i) => v - b[i]!));
}
