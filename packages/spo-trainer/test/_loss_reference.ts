/**
 * Plain-JS float64 references of the SPO transition log-prob, the clipped DPO loss and the
 * Diffusion-DPO loss, written from the formulas (research/spo.md §2), for the GPU code's tests.
 */

/** ᾱ table lookups the reference needs. */
export interface ReferenceSchedule {
  alphasCumprod: ArrayLike<number>;
  stepSize: number;
  total: number;
}

/** μ and σ of the transition of each row (float64), to draw realistic children. */
export function referenceMeanSigma(
  s: ReferenceSchedule,
  eps: ArrayLike<number>,
  timesteps: readonly number[],
  x: ArrayLike<number>,
): { mean: Float64Array; sigma: number[] } {
  const size = x.length / timesteps.length;
  const mean = new Float64Array(x.length);
  const sigma = timesteps.map((t, b) => {
    const tp = Math.min(Math.max(t - s.stepSize, 0), s.total - 1);
    const a = s.alphasCumprod[t];
    const ap = s.alphasCumprod[tp];
    const variance = ((1 - ap) / (1 - a)) * (1 - a / ap);
    for (let e = b * size; e < (b + 1) * size; e++) {
      const x0 = (x[e] - Math.sqrt(1 - a) * eps[e]) / Math.sqrt(a);
      mean[e] = Math.sqrt(ap) * x0 + Math.sqrt(1 - ap - variance) * eps[e];
    }
    return Math.sqrt(variance);
  });
  return { mean, sigma };
}

export function referenceLogProb(
  s: ReferenceSchedule,
  eps: ArrayLike<number>,
  timesteps: readonly number[],
  x: ArrayLike<number>,
  prev: ArrayLike<number>,
): number[] {
  const rows = timesteps.length;
  const size = x.length / rows;
  return timesteps.map((t, b) => {
    const tp = Math.min(Math.max(t - s.stepSize, 0), s.total - 1);
    const a = s.alphasCumprod[t];
    const ap = s.alphasCumprod[tp];
    const variance = ((1 - ap) / (1 - a)) * (1 - a / ap);
    const sigma = Math.sqrt(variance);
    let total = 0;
    for (let e = b * size; e < (b + 1) * size; e++) {
      const x0 = (x[e] - Math.sqrt(1 - a) * eps[e]) / Math.sqrt(a);
      const mu = Math.sqrt(ap) * x0 + Math.sqrt(1 - ap - variance) * eps[e];
      total += -((prev[e] - mu) ** 2) / (2 * variance) - Math.log(sigma) - Math.log(Math.sqrt(2 * Math.PI));
    }
    return total / size;
  });
}

export function referenceSpoLoss(
  s: ReferenceSchedule,
  policy: ArrayLike<number>,
  ref: ArrayLike<number>,
  timesteps: readonly number[],
  x: ArrayLike<number>,
  win: ArrayLike<number>,
  lose: ArrayLike<number>,
  beta = 10,
  clipEps = 0.1,
): number {
  const lpw = referenceLogProb(s, policy, timesteps, x, win);
  const lpwRef = referenceLogProb(s, ref, timesteps, x, win);
  const lpl = referenceLogProb(s, policy, timesteps, x, lose);
  const lplRef = referenceLogProb(s, ref, timesteps, x, lose);
  const clip = (r: number) => Math.min(Math.max(r, 1 - clipEps), 1 + clipEps);
  let total = 0;
  for (let b = 0; b < timesteps.length; b++) {
    const margin = beta * Math.log(clip(Math.exp(lpw[b] - lpwRef[b]))) - beta * Math.log(clip(Math.exp(lpl[b] - lplRef[b])));
    total += -Math.log(1 / (1 + Math.exp(-margin)));
  }
  return total / timesteps.length;
}

export function referenceDiffusionDpoLoss(
  rows: number,
  policyWin: ArrayLike<number>,
  policyLose: ArrayLike<number>,
  refWin: ArrayLike<number>,
  refLose: ArrayLike<number>,
  noiseWin: ArrayLike<number>,
  noiseLose: ArrayLike<number>,
  beta = 5000,
): number {
  const size = policyWin.length / rows;
  const mse = (a: ArrayLike<number>, b: ArrayLike<number>, r: number) => {
    let t = 0;
    for (let e = r * size; e < (r + 1) * size; e++) t += (a[e] - b[e]) ** 2;
    return t / size;
  };
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const diff = mse(policyWin, noiseWin, r) - mse(refWin, noiseWin, r) - (mse(policyLose, noiseLose, r) - mse(refLose, noiseLose, r));
    const x = -0.5 * beta * diff;
    total += Math.max(-x, 0) + Math.log1p(Math.exp(-Math.abs(x))); // −log σ(x)
  }
  return total / rows;
}
