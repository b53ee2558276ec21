/**
 * SPO's pair selection (`preference_score_compare`, threshold 0.3 for SD1.5): in each column of a
 * [k, B] score table (k children of one parent, k-major), the best and the worst child form a
 * pair, kept when the softmax of [s_best, s_worst] separates them by more than the threshold —
 * equivalently when s_best − s_worst > ln((1 + thr)/(1 − thr)).
 *
 * @module
 */

/** The chosen pair of every column. */
export interface PreferencePairs {
  /** Row (child) index of the best score per column. */
  best: Int32Array;
  /** Row index of the worst score per column. */
  worst: Int32Array;
  /** Whether the column's pair passes the threshold. */
  valid: Uint8Array;
  /** softmax([s_best, s_worst]) per column: [p_best, p_worst]. */
  softmaxBest: Float32Array;
  softmaxWorst: Float32Array;
}

/** The score gap above which a pair is kept: ln((1 + threshold)/(1 − threshold)). */
export function scoreGapThreshold(threshold: number): number {
  return Math.log((1 + threshold) / (1 - threshold));
}

/**
 * Best/worst pairs of a k-major score table (`scores[i·batch + b]` is child i of prompt b), as a
 * stable descending sort ranks them: the first of equal maxima is the best, the last of equal
 * minima the worst.
 *
 * @example
 * ```ts
 * const { best, worst, valid } = comparePreferences(Float32Array.of(0.1, 2, 3, 0), 2, 0.3);
 * // column 0: scores [0.1, 3] → best 1, worst 0, gap 2.9 > 0.62 → valid
 * ```
 */
export function comparePreferences(scores: ArrayLike<number>, batch: number, threshold = 0.3): PreferencePairs {
  if (!Number.isInteger(batch) || batch < 1 || scores.length % batch !== 0) {
    throw new RangeError(`Cannot compare preference scores: ${scores.length} scores do not form a [k, ${batch}] table`);
  }
  if (!(threshold >= 0 && threshold < 1))
    throw new RangeError(`Cannot compare preference scores with threshold ${threshold}: it must be in [0, 1)`);
  const k = scores.length / batch;
  if (k < 2) throw new RangeError(`Cannot compare preference scores: a pool of ${k} child has no pair (k must be ≥ 2)`);
  const out: PreferencePairs = {
    best: new Int32Array(batch),
    worst: new Int32Array(batch),
    valid: new Uint8Array(batch),
    softmaxBest: new Float32Array(batch),
    softmaxWorst: new Float32Array(batch),
  };
  for (let b = 0; b < batch; b++) {
    let best = 0;
    let worst = 0;
    for (let i = 0; i < k; i++) {
      const s = scores[i * batch + b];
      if (Number.isNaN(s)) throw new RangeError(`Cannot compare preference scores: score of child ${i} of prompt ${b} is NaN`);
      if (s > scores[best * batch + b]) best = i;
      if (s <= scores[worst * batch + b]) worst = i;
    }
    const sBest = Math.fround(scores[best * batch + b]);
    const sWorst = Math.fround(scores[worst * batch + b]);
    // softmax over two values in float32, shifted by the max as torch does
    const eWorst = Math.fround(Math.exp(Math.fround(sWorst - sBest)));
    const total = Math.fround(1 + eWorst);
    const pBest = Math.fround(1 / total);
    const pWorst = Math.fround(eWorst / total);
    out.best[b] = best;
    out.worst[b] = worst;
    out.softmaxBest[b] = pBest;
    out.softmaxWorst[b] = pWorst;
    out.valid[b] = Math.fround(pBest - pWorst) > threshold ? 1 : 0;
  }
  return out;
}
