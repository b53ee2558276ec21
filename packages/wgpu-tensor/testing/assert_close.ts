import type { DType } from "../tensor/dtype.ts";

export interface Tolerance {
  atol: number;
  rtol: number;
}

/**
 * The one tolerance rule for GPU-vs-reference checks: a few units in the last place of the dtype,
 * growing with the square root of the reduction length (rounding errors of a K-term sum grow like
 * √K when they are random, which they are for our random inputs), times an op-specific factor for
 * transcendental functions, whose WGSL accuracy is specified in ULPs.
 */
export function toleranceFor(dtype: DType, reductionLength = 1, opFactor = 1): Tolerance {
  const epsilon = dtype === "f16" ? 2 ** -10 : 2 ** -23;
  const scale = 8 * epsilon * Math.sqrt(Math.max(1, reductionLength)) * opFactor;
  return { atol: scale, rtol: scale };
}

/**
 * Throws an AssertionError-like Error naming the worst element unless
 * |actual − expected| ≤ atol + rtol·|expected| everywhere (numpy `allclose`; NaN equals NaN).
 */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: Tolerance, context = "values"): void {
  if (actual.length !== expected.length) {
    throw new Error(`${context}: got ${actual.length} values, expected ${expected.length}`);
  }
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(a) && Number.isNaN(e)) continue;
    if (a === e) continue; // also equal infinities
    const allowed = tolerance.atol + tolerance.rtol * Math.abs(e);
    const excess = Math.abs(a - e) - allowed;
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = Number.isNaN(excess) ? Infinity : excess;
    }
  }
  if (worst >= 0) {
    const a = actual[worst];
    const e = expected[worst];
    throw new Error(
      `${context}: element ${worst} is ${a}, expected ${e} (|diff| ${Math.abs(a - e)}, ` +
        `allowed ${tolerance.atol} + ${tolerance.rtol}·|expected|)`,
    );
  }
}
