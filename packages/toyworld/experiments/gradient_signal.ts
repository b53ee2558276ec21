/**
 * How much of a preference method's gradient is signal: from M independent minibatch gradients
 * g₁…g_M (each the mean over b pairs), the squared norm of the expected gradient μ and the
 * per-pair noise, both unbiased:
 *
 *   |μ|² ≈ (|Σ gᵢ|² − Σ |gᵢ|²) / (M (M − 1)),   σ²_pair ≈ b · (mean |gᵢ|² − |μ|²)
 *
 * and the pairs a mean gradient needs before its signal matches its noise, σ²_pair / |μ|².
 *
 * @module
 */

/** What `gradientSignal` estimates. */
export interface GradientSignal {
  /** Minibatch gradients used. */
  minibatches: number;
  /** Pairs per minibatch. */
  pairsPerMinibatch: number;
  /** |μ|²: the squared norm of the expected gradient (may come out ≤ 0 when there is none). */
  signal: number;
  /** σ²: the summed per-coordinate variance of one pair's gradient. */
  noisePerPair: number;
  /** σ² / |μ|²: pairs averaged for a signal-to-noise ratio of 1 (Infinity when the signal is ≤ 0). */
  pairsForUnitSnr: number;
  /** Cosine between the sums of the even and the odd minibatches (two independent halves). */
  halvesCosine: number;
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Signal and noise of a gradient from independent minibatch gradients of `pairsPerMinibatch` pairs each. */
export function gradientSignal(gradients: readonly Float32Array[], pairsPerMinibatch: number): GradientSignal {
  const m = gradients.length;
  if (m < 2) throw new RangeError(`Cannot estimate a gradient's signal from ${m} minibatch gradient(s): at least 2 are needed`);
  if (!(Number.isInteger(pairsPerMinibatch) && pairsPerMinibatch >= 1))
    throw new RangeError(`Cannot estimate a gradient's signal: pairsPerMinibatch must be a positive integer, got ${pairsPerMinibatch}`);
  const n = gradients[0]!.length;
  if (gradients.some((g) => g.length !== n)) throw new RangeError("Cannot estimate a gradient's signal: the gradients differ in length");
  const total = new Float32Array(n);
  const halves = [new Float32Array(n), new Float32Array(n)];
  let squares = 0;
  gradients.forEach((g, i) => {
    squares += dot(g, g);
    for (let j = 0; j < n; j++) {
      total[j] += g[j]!;
      halves[i % 2]![j] += g[j]!;
    }
  });
  const signal = (dot(total, total) - squares) / (m * (m - 1));
  const noisePerPair = pairsPerMinibatch * (squares / m - signal);
  const norms = Math.sqrt(dot(halves[0]!, halves[0]!) * dot(halves[1]!, halves[1]!));
  return {
    minibatches: m,
    pairsPerMinibatch,
    signal,
    noisePerPair,
    pairsForUnitSnr: signal > 0 ? noisePerPair / signal : Number.POSITIVE_INFINITY,
    halvesCosine: norms > 0 ? dot(halves[0]!, halves[1]!) / norms : 0,
  };
}
