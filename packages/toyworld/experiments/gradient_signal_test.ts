import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gradientSignal } from "./gradient_signal.ts";

/** Seeded standard normals (Box–Muller over a small LCG). */
function normals(seed: number, count: number): Float64Array {
  let state = seed >>> 0 || 1;
  const uniform = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state + 0.5) / 2 ** 32;
  };
  return Float64Array.from({ length: count }, () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()));
}

/** M minibatch means of b pairs, each pair's gradient μ + σ·z over n coordinates. */
function minibatches(mu: number[], sigma: number, m: number, b: number, seed: number): Float32Array[] {
  const n = mu.length;
  const z = normals(seed, m * b * n);
  return Array.from({ length: m }, (_, i) =>
    Float32Array.from(mu, (v, j) => {
      let sum = 0;
      for (let k = 0; k < b; k++) sum += v + sigma * z[(i * b + k) * n + j]!;
      return sum / b;
    }),
  );
}

describe("gradientSignal", () => {
  it("recovers |μ|² and the per-pair noise σ²·n of synthetic gradients, and the pairs for SNR 1", () => {
    const n = 50;
    const mu = Array.from({ length: n }, (_, j) => (j % 2 ? 0.1 : -0.1)); // |μ|² = 0.5
    const sigma = 0.5; // per-pair noise σ²·n = 12.5, so 25 pairs for SNR 1
    const s = gradientSignal(minibatches(mu, sigma, 400, 8, 7), 8);
    // standard errors at M = 400: |μ|² within ~0.02, the noise within ~1 %
    assert.ok(Math.abs(s.signal - 0.5) < 0.06, `signal ${s.signal}`);
    assert.ok(Math.abs(s.noisePerPair / 12.5 - 1) < 0.05, `noise ${s.noisePerPair}`);
    assert.ok(Math.abs(s.pairsForUnitSnr / 25 - 1) < 0.15, `pairs ${s.pairsForUnitSnr}`);
    assert.ok(s.halvesCosine > 0.8, `halves ${s.halvesCosine}`);
  });

  it("gives a signal near zero and halves near orthogonal for pure noise", () => {
    const s = gradientSignal(minibatches(new Array(200).fill(0), 1, 100, 4, 3), 4);
    // |μ|² = 0: the estimate's standard error is about √2 · σ²·√n / (b · M) ≈ 0.05
    assert.ok(Math.abs(s.signal) < 0.2, `signal ${s.signal}`);
    assert.ok(Math.abs(s.halvesCosine) < 0.3, `halves ${s.halvesCosine}`);
  });

  it("rejects fewer than two gradients, uneven lengths and a bad minibatch size", () => {
    assert.throws(() => gradientSignal([new Float32Array(3)], 8), /at least 2/);
    assert.throws(() => gradientSignal([new Float32Array(3), new Float32Array(2)], 8), /differ in length/);
    assert.throws(() => gradientSignal([new Float32Array(3), new Float32Array(3)], 0), /pairsPerMinibatch/);
  });
});
