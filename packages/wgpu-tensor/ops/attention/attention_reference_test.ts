// The references are the truth the kernels are held to, so they are checked on their own: the
// analytic gradient formulas against finite differences of the forward, all in f64 on the host.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { hostTensor, type HostTensor } from "../../tensor/host_tensor.ts";
import { assertClose, fcRuns, randomHost } from "../../testing/mod.ts";
import {
  referenceAttention,
  referenceAttentionBackward,
  type ReferenceAttentionOptions,
  referenceAttentionStats,
  referenceGradientsFromStats,
} from "./attention_reference.ts";
import { sumToShapeHost } from "./_attention_testing.ts";

const tinyCase = fc.record({
  batch: fc.integer({ min: 1, max: 2 }),
  heads: fc.integer({ min: 1, max: 2 }),
  queries: fc.integer({ min: 1, max: 4 }),
  keys: fc.integer({ min: 1, max: 5 }),
  headSize: fc.integer({ min: 1, max: 4 }),
  valueSize: fc.integer({ min: 1, max: 3 }),
  variant: fc.constantFrom("plain", "causal", "mask"),
  scale: fc.double({ min: 0.2, max: 1.5, noNaN: true }),
});

/** Σ referenceAttention(inputs)·upstream: a scalar whose gradient is the backward of `upstream`. */
function loss(inputs: HostTensor[], upstream: HostTensor, options: ReferenceAttentionOptions): number {
  const mask = inputs[3] ?? null;
  const out = referenceAttention(inputs[0], inputs[1], inputs[2], { ...options, mask });
  return out.data.reduce((total, value, i) => total + value * upstream.data[i], 0);
}

function centralDifferences(inputs: HostTensor[], which: number, upstream: HostTensor, options: ReferenceAttentionOptions): Float64Array {
  const step = 1e-5;
  const numeric = new Float64Array(inputs[which].data.length);
  for (let e = 0; e < numeric.length; e++) {
    const bumped = (delta: number) =>
      inputs.map((t, j) => {
        if (j !== which) return t;
        const data = Float64Array.from(t.data);
        data[e] += delta;
        return { ...t, data };
      });
    numeric[e] = (loss(bumped(step), upstream, options) - loss(bumped(-step), upstream, options)) / (2 * step);
  }
  return numeric;
}

describe("attention references", () => {
  test("referenceAttention() weighs values by the softmax of the scaled scores", () => {
    const q = hostTensor([1, 0], [1, 1, 1, 2]);
    const k = hostTensor([1, 0, 0, 1], [1, 1, 2, 2]);
    const v = hostTensor([1, 2], [1, 1, 2, 1]);
    // scores ln 3 and 0: weights ¾ and ¼
    const out = referenceAttention(q, k, v, { scale: Math.log(3) });
    assert.ok(Math.abs(out.data[0] - 1.25) < 1e-12);
    // causal: query 0 sees key 0 only
    assert.equal(referenceAttention(q, k, v, { isCausal: true }).data[0], 1);
  });

  test("referenceAttentionBackward() agrees with central finite differences of referenceAttention()", async () => {
    await fc.assert(
      fc.property(tinyCase, fc.integer(), (c, seed) => {
        const { batch, heads, queries, keys, headSize, valueSize } = c;
        const inputs = [
          randomHost([batch, heads, queries, headSize], seed),
          randomHost([batch, heads, keys, headSize], seed + 1),
          randomHost([batch, heads, keys, valueSize], seed + 2),
        ];
        if (c.variant === "mask") inputs.push(randomHost([heads, 1, keys], seed + 3, { low: -2, high: 1 }));
        const upstream = randomHost([batch, heads, queries, valueSize], seed + 4);
        const options = { scale: c.scale, isCausal: c.variant === "causal" };
        const grads = referenceAttentionBackward(inputs[0], inputs[1], inputs[2], upstream, { ...options, mask: inputs[3] ?? null });
        const analytic = [grads.query, grads.key, grads.value];
        if (c.variant === "mask") analytic.push(sumToShapeHost(grads.mask, inputs[3].shape));
        // h = 1e-5 leaves a truncation error ~1e-10 on these O(1) functions
        const tolerance = { atol: 1e-7, rtol: 1e-6 };
        analytic.forEach((grad, i) => assertClose(grad.data, centralDifferences(inputs, i, upstream, options), tolerance, `input ${i}`));
      }),
      { numRuns: fcRuns(20) },
    );
  });

  test("recomputing P as exp(S − lse) from the saved statistics gives the same gradients", async () => {
    await fc.assert(
      fc.property(tinyCase, fc.integer(), (c, seed) => {
        const { batch, heads, queries, keys, headSize, valueSize } = c;
        const query = randomHost([batch, heads, queries, headSize], seed);
        const key = randomHost([batch, heads, keys, headSize], seed + 1);
        const value = randomHost([batch, heads, keys, valueSize], seed + 2);
        const outGrad = randomHost([batch, heads, queries, valueSize], seed + 3);
        const mask = c.variant === "mask" ? randomHost([queries, keys], seed + 4) : null;
        const options = { scale: c.scale, isCausal: c.variant === "causal", mask };
        const output = referenceAttention(query, key, value, options);
        const stats = referenceAttentionStats(query, key, output, outGrad, options);
        const fromStats = referenceGradientsFromStats({ query, key, value, outGrad }, stats, options);
        const direct = referenceAttentionBackward(query, key, value, outGrad, options);
        for (const name of ["query", "key", "value", "mask"] as const) {
          assertClose(fromStats[name].data, direct[name].data, { atol: 1e-12, rtol: 1e-10 }, name);
        }
      }),
      { numRuns: fcRuns(20) },
    );
  });
});
