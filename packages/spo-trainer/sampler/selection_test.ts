// Pair selection and the step-wise resampler: a pair is valid exactly when the score gap exceeds
// ln((1 + thr)/(1 − thr)); the random resampler ignores the scores and is uniform (chi-square at
// fixed seeds); greedy picks the argmax.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import fc from "fast-check";
import { RandomGenerator } from "@spo/wgpu-tensor";
import { fcRuns, testDevice } from "@spo/wgpu-tensor/testing";
import { comparePreferences, scoreGapThreshold } from "./preference_compare.ts";
import { resampleParents } from "./resampler.ts";

before(async () => {
  await testDevice();
});

const arbTable = fc.record({ k: fc.integer({ min: 2, max: 6 }), batch: fc.integer({ min: 1, max: 8 }) }).chain(({ k, batch }) =>
  fc.record({
    k: fc.constant(k),
    batch: fc.constant(batch),
    scores: fc.array(fc.float({ min: -20, max: 20, noNaN: true }), { minLength: k * batch, maxLength: k * batch }),
    threshold: fc.double({ min: 0, max: 0.95, noNaN: true }),
  }),
);

describe("comparePreferences", () => {
  it("pairs the max and the min of each column and keeps it exactly when the gap exceeds ln((1 + thr)/(1 − thr))", () => {
    fc.assert(
      fc.property(arbTable, ({ k, batch, scores, threshold }) => {
        const pairs = comparePreferences(scores, batch, threshold);
        const gapNeeded = scoreGapThreshold(threshold);
        for (let b = 0; b < batch; b++) {
          const column = Array.from({ length: k }, (_, i) => scores[i * batch + b]);
          assert.equal(column[pairs.best[b]], Math.max(...column));
          assert.equal(column[pairs.worst[b]], Math.min(...column));
          const gap = Math.max(...column) - Math.min(...column);
          if (Math.abs(gap - gapNeeded) < 1e-4 * (1 + gapNeeded)) continue; // f32 softmax rounding at the boundary
          assert.equal(pairs.valid[b] === 1, gap > gapNeeded, `gap ${gap}, needed ${gapNeeded}`);
        }
      }),
      { numRuns: fcRuns(200) },
    );
  });

  it("uses SPO's 0.3 threshold by default: gaps above ln(0.65/0.35) ≈ 0.619 are kept", () => {
    assert.ok(Math.abs(scoreGapThreshold(0.3) - 0.6190392084062235) < 1e-12);
    const pairs = comparePreferences(Float32Array.of(0, 0.6, 0.65, 0), 2);
    assert.deepEqual([...pairs.valid], [1, 0]);
    assert.throws(() => comparePreferences([1, 2, 3], 2), /\[k, 2\]/);
    assert.throws(() => comparePreferences([1, 2], 2), /k must be ≥ 2/);
  });
});

describe("resampleParents", () => {
  it("draws the random parent independently of the scores, and greedy picks the argmax", async () => {
    await fc.assert(
      fc.asyncProperty(arbTable, fc.integer({ min: 0, max: 2 ** 31 }), async ({ k, batch, scores }, seed) => {
        const other = scores.map((s, i) => s * -3 + i);
        const a = await resampleParents(scores, batch, k, { generator: new RandomGenerator(seed) });
        const b = await resampleParents(other, batch, k, { generator: new RandomGenerator(seed) });
        assert.deepEqual([...a], [...b]);
        for (const j of a) assert.ok(j >= 0 && j < k);
        const greedy = await resampleParents(scores, batch, k, { generator: new RandomGenerator(seed), greedy: true });
        for (let c = 0; c < batch; c++) {
          const column = Array.from({ length: k }, (_, i) => scores[i * batch + c]);
          assert.equal(greedy[c], column.indexOf(Math.max(...column)));
        }
      }),
      { numRuns: fcRuns(20) },
    );
  });

  it("is uniform over the pool (chi-square below the p = 0.001 critical value at fixed seeds)", async () => {
    // critical values of χ² at p = 0.001 for k − 1 degrees of freedom
    const critical: Record<number, number> = { 2: 10.83, 3: 13.82, 4: 16.27, 5: 18.47 };
    for (const [k, seed] of [
      [2, 1],
      [3, 7],
      [4, 42],
      [5, 1234],
    ] as const) {
      const draws = 4000;
      const generator = new RandomGenerator(seed);
      const counts = new Array<number>(k).fill(0);
      const picks = await resampleParents(new Float32Array(draws * k), draws, k, { generator });
      for (const j of picks) counts[j]++;
      const expected = draws / k;
      const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
      assert.ok(chi2 < critical[k], `k ${k}, seed ${seed}: counts ${counts}, χ² ${chi2.toFixed(2)}`);
    }
  });
});
