import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { fcRuns } from "@spo/wgpu-tensor/testing";
import { summarize } from "./stats.ts";

const samples = fc.array(fc.double({ min: 0, max: 1e4, noNaN: true }), { minLength: 1, maxLength: 40 });

test("the summary is ordered: min ≤ q1 ≤ median ≤ q3 ≤ max, all taken from the samples' range", () => {
  fc.assert(
    fc.property(samples, (values) => {
      const s = summarize(values);
      assert.ok(s.min <= s.q1 && s.q1 <= s.median && s.median <= s.q3 && s.q3 <= s.max);
      assert.equal(s.min, Math.min(...values));
      assert.equal(s.max, Math.max(...values));
      assert.equal(s.count, values.length);
    }),
    { numRuns: fcRuns() },
  );
});

test("the median of an odd count is the middle sample, of an even count the mean of the two middle ones", () => {
  fc.assert(
    fc.property(samples, (values) => {
      const sorted = [...values].sort((a, b) => a - b);
      const half = Math.floor(sorted.length / 2);
      const expected = sorted.length % 2 === 1 ? sorted[half] : (sorted[half - 1] + sorted[half]) / 2;
      assert.ok(Math.abs(summarize(values).median - expected) <= 1e-9 * Math.max(1, expected));
    }),
    { numRuns: fcRuns() },
  );
});

test("quartiles interpolate between neighbours and fall back to min and max below four samples", () => {
  assert.deepEqual(summarize([4, 1, 3, 2]), { median: 2.5, min: 1, max: 4, q1: 1.75, q3: 3.25, count: 4 });
  assert.deepEqual(summarize([5, 9, 7]), { median: 7, min: 5, max: 9, q1: 5, q3: 9, count: 3 });
});

test("summarising no samples throws", () => {
  assert.throws(() => summarize([]), RangeError);
});
