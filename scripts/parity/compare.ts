import type { Tolerance } from "./manifest.ts";

/** 3 significant digits, e.g. 1.53e-6 (0 and inf as such). */
export function formatNumber(value: number): string {
  if (value === 0) return "0";
  if (!Number.isFinite(value)) return Number.isNaN(value) ? "nan" : "inf";
  return value.toExponential(2).replace(/\.?0+e/, "e");
}

/** How one output compared: the element closest to (or furthest past) its tolerance. */
export interface Comparison {
  output: string;
  isPass: boolean;
  /** |got − want| at the worst element (Infinity for a size or structure mismatch). */
  maxError: number;
  /** atol + rtol·|want| at that element. */
  allowed: number;
  /** Where and why, for the log. */
  detail: string;
}

/**
 * numpy `allclose` (equal_nan false) of two arrays, reporting the element with the largest
 * error-to-allowance ratio. Integer outputs pass exact tolerances {0, 0}.
 */
export function compareArrays(output: string, got: ArrayLike<number>, want: ArrayLike<number>, tolerance: Tolerance): Comparison {
  if (got.length !== want.length) {
    return {
      output,
      isPass: false,
      maxError: Infinity,
      allowed: tolerance.atol,
      detail: `got ${got.length} values, expected ${want.length}`,
    };
  }
  if (got.length === 0) return { output, isPass: true, maxError: 0, allowed: tolerance.atol, detail: "empty" };
  let worst = 0;
  let worstRatio = -1;
  for (let i = 0; i < got.length; i++) {
    const error = Math.abs(got[i] - want[i]);
    const allowed = tolerance.atol + tolerance.rtol * Math.abs(want[i]);
    // NaN anywhere fails (numpy's default), as does any error above the allowance
    let ratio = error / allowed;
    if (Number.isNaN(error)) ratio = Infinity;
    else if (allowed === 0) ratio = error === 0 ? 0 : Infinity;
    // on a tie (typically all errors 0) the tightest allowance is the telling one
    const isTighterTie = ratio === worstRatio && allowed < tolerance.atol + tolerance.rtol * Math.abs(want[worst]);
    if (ratio > worstRatio || isTighterTie) {
      worstRatio = ratio;
      worst = i;
    }
  }
  const maxError = Number.isNaN(got[worst] - want[worst]) ? Infinity : Math.abs(got[worst] - want[worst]);
  const allowed = tolerance.atol + tolerance.rtol * Math.abs(want[worst]);
  return {
    output,
    isPass: worstRatio <= 1,
    maxError,
    allowed,
    detail: `element ${worst}: got ${got[worst]}, want ${want[worst]}`,
  };
}

/**
 * Compares JSON values (self-contained cases: token ids, parsed prompts): structure, strings and
 * booleans exactly, numbers with the tolerance.
 */
export function compareJson(output: string, got: unknown, want: unknown, tolerance: Tolerance): Comparison {
  const numbersGot: number[] = [];
  const numbersWant: number[] = [];
  const mismatch = collectNumbers(got, want, "$", numbersGot, numbersWant);
  if (mismatch) return { output, isPass: false, maxError: Infinity, allowed: tolerance.atol, detail: mismatch };
  return compareArrays(output, numbersGot, numbersWant, tolerance);
}

function collectNumbers(got: unknown, want: unknown, path: string, numbersGot: number[], numbersWant: number[]): string | null {
  if (typeof want === "number") {
    if (typeof got !== "number") return `${path}: got ${JSON.stringify(got)}, want the number ${want}`;
    numbersGot.push(got);
    numbersWant.push(want);
    return null;
  }
  if (Array.isArray(want)) {
    if (!Array.isArray(got) || got.length !== want.length)
      return `${path}: got ${JSON.stringify(got)?.slice(0, 80)}, want an array of ${want.length}`;
    for (let i = 0; i < want.length; i++) {
      const mismatch = collectNumbers(got[i], want[i], `${path}[${i}]`, numbersGot, numbersWant);
      if (mismatch) return mismatch;
    }
    return null;
  }
  if (typeof want === "object" && want !== null) {
    if (typeof got !== "object" || got === null || Array.isArray(got))
      return `${path}: got ${JSON.stringify(got)?.slice(0, 80)}, want an object`;
    const keys = Object.keys(want);
    const gotKeys = Object.keys(got);
    if (gotKeys.length !== keys.length || !keys.every((k) => k in got))
      return `${path}: got keys ${gotKeys.join(",")}, want ${keys.join(",")}`;
    for (const key of keys) {
      const mismatch = collectNumbers(
        (got as Record<string, unknown>)[key],
        (want as Record<string, unknown>)[key],
        `${path}.${key}`,
        numbersGot,
        numbersWant,
      );
      if (mismatch) return mismatch;
    }
    return null;
  }
  return got === want ? null : `${path}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`;
}
