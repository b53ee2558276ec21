import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { meanWithTInterval, pairedDifference, studentT95 } from "./seed_interval.ts";

describe("seed intervals", () => {
  test("studentT95 gives the tabulated 97.5 % quantiles and 1.96 beyond 30 degrees of freedom", () => {
    assert.equal(studentT95(1), 12.706);
    assert.equal(studentT95(2), 4.303);
    assert.equal(studentT95(4), 2.776);
    assert.equal(studentT95(30), 2.042);
    assert.equal(studentT95(200), 1.96);
    // decreasing towards the normal quantile
    for (let df = 1; df < 40; df++) assert.ok(studentT95(df) >= studentT95(df + 1));
    assert.throws(() => studentT95(0), RangeError);
    assert.throws(() => studentT95(2.5), RangeError);
  });

  test("meanWithTInterval on three seeds: mean ± 4.303 · s / √3", () => {
    // values 1, 2, 3: mean 2, sample standard deviation 1
    const r = meanWithTInterval([1, 2, 3]);
    assert.equal(r.mean, 2);
    assert.equal(r.n, 3);
    const half = 4.303 / Math.sqrt(3);
    assert.ok(Math.abs(r.low - (2 - half)) < 1e-12);
    assert.ok(Math.abs(r.high - (2 + half)) < 1e-12);
  });

  test("one seed has no interval (NaN), equal seeds a zero-width one; empty and non-finite input throw", () => {
    const one = meanWithTInterval([0.7]);
    assert.equal(one.mean, 0.7);
    assert.ok(Number.isNaN(one.low) && Number.isNaN(one.high));
    const same = meanWithTInterval([0.5, 0.5, 0.5, 0.5]);
    assert.deepEqual([same.low, same.high], [0.5, 0.5]);
    assert.throws(() => meanWithTInterval([]), RangeError);
    assert.throws(() => meanWithTInterval([1, Number.NaN]), RangeError);
  });

  test("pairedDifference is the interval of the per-seed differences", () => {
    // differences 0.1, 0.2, 0.3 (a shared per-seed offset cancels)
    const a = [1.1, 5.2, -2.7];
    const b = [1.0, 5.0, -3.0];
    const d = pairedDifference(a, b);
    assert.ok(Math.abs(d.mean - 0.2) < 1e-12);
    const half = (4.303 * 0.1) / Math.sqrt(3);
    assert.ok(Math.abs(d.high - d.mean - half) < 1e-9);
    assert.throws(() => pairedDifference([1, 2], [1]), RangeError);
  });
});
