import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { fcRuns } from "@spo/wgpu-tensor/testing";
import { compareValues } from "./compare.ts";

const tolerance = { atol: 1e-4, rtol: 1e-3 };
const values = fc.float32Array({ minLength: 1, maxLength: 64, noNaN: true, noDefaultInfinity: true, min: -1e3, max: 1e3 });

test("values within atol + rtol·|peer| pass and the report gives the largest error", () => {
  fc.assert(
    fc.property(values, fc.double({ min: -0.9, max: 0.9, noNaN: true }), (peer, fraction) => {
      const ours = peer.map((v) => v + fraction * (tolerance.atol + tolerance.rtol * Math.abs(v)) * 0.99);
      const report = compareValues(ours, peer, tolerance);
      assert.ok(report.ok, report.detail);
      assert.match(report.detail, /max \|error\|/);
    }),
    { numRuns: fcRuns() },
  );
});

test("one value beyond the tolerance fails and names its index", () => {
  fc.assert(
    fc.property(values, fc.nat(), (peer, pick) => {
      const index = pick % peer.length;
      const ours = Float32Array.from(peer);
      ours[index] = peer[index] + 2 * (tolerance.atol + tolerance.rtol * Math.abs(peer[index])) + 1e-2;
      const report = compareValues(ours, peer, tolerance);
      assert.equal(report.ok, false);
      assert.match(report.detail, new RegExp(`1 of ${peer.length} values differ.*worst at ${index}:`));
    }),
    { numRuns: fcRuns() },
  );
});

test("NaN must meet NaN, and lengths must match", () => {
  assert.equal(compareValues(new Float32Array([NaN]), new Float32Array([NaN]), tolerance).ok, true);
  assert.equal(compareValues(new Float32Array([NaN]), new Float32Array([0]), tolerance).ok, false);
  assert.equal(compareValues(new Float32Array([0]), new Float32Array([NaN]), tolerance).ok, false);
  assert.equal(compareValues(new Float32Array(2), new Float32Array(3), tolerance).ok, false);
});
