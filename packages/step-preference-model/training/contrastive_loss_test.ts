import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { backward, tensor, transpose } from "@spo/wgpu-tensor";
import { fcRuns, testDevice } from "@spo/wgpu-tensor/testing";
import { contrastiveLoss } from "./contrastive_loss.ts";

/** The loss in float64 from its definition. */
function reference(logits: number[][]): number {
  const b = logits.length;
  const logSoftmaxAt = (row: number[], i: number) => {
    const m = Math.max(...row);
    return row[i]! - m - Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
  };
  let images = 0;
  let texts = 0;
  for (let i = 0; i < b; i++) {
    images -= logSoftmaxAt(logits[i]!, i);
    texts -= logSoftmaxAt(
      logits.map((row) => row[i]!),
      i,
    );
  }
  return (images / b + texts / b) / 2;
}

describe("contrastiveLoss", () => {
  test("matches the float64 definition for random logits of awkward sizes", async () => {
    const device = await testDevice();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 37 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), async (b, seed) => {
        let state = seed;
        const next = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32) * 40 - 20;
        const logits = Array.from({ length: b }, () => Array.from({ length: b }, next));
        const perImage = tensor(Float32Array.from(logits.flat()), [b, b], { device });
        const perText = transpose(perImage, 0, 1);
        const loss = contrastiveLoss(perImage, perText);
        const got = (await loss.toArray())[0]!;
        const want = reference(logits);
        assert.ok(Math.abs(got - want) <= 1e-5 * (1 + Math.abs(want)), `B=${b}: ${got} vs ${want}`);
        for (const t of [perImage, perText, loss]) t.dispose();
      }),
      { numRuns: fcRuns(30) },
    );
  });

  test("gradients match central differences of the float64 definition", async () => {
    const device = await testDevice();
    const b = 4;
    const values = Array.from({ length: b * b }, (_, i) => Math.sin(i * 1.7) * 3);
    const x = tensor(Float32Array.from(values), [b, b], { device });
    x.requiresGrad = true;
    const loss = contrastiveLoss(x, transpose(x, 0, 1));
    backward(loss);
    const got = await x.grad!.toArray();
    const rows = (v: number[]) => Array.from({ length: b }, (_, i) => v.slice(i * b, (i + 1) * b));
    const h = 1e-5;
    values.forEach((_, k) => {
      const plus = values.map((v, j) => (j === k ? v + h : v));
      const minus = values.map((v, j) => (j === k ? v - h : v));
      const want = (reference(rows(plus)) - reference(rows(minus))) / (2 * h);
      assert.ok(Math.abs(got[k]! - want) < 1e-5, `∂/∂x${k}: ${got[k]} vs ${want}`);
    });
    loss.dispose();
    x.dispose();
  });

  test("perfectly separated logits give a loss near 0, uniform ones ln B", async () => {
    const device = await testDevice();
    const b = 5;
    const sharp = tensor(
      Float32Array.from({ length: b * b }, (_, k) => (k % (b + 1) === 0 ? 50 : 0)),
      [b, b],
      { device },
    );
    const flat = tensor(new Float32Array(b * b), [b, b], { device });
    assert.ok((await contrastiveLoss(sharp, sharp).toArray())[0]! < 1e-6);
    assert.ok(Math.abs((await contrastiveLoss(flat, flat).toArray())[0]! - Math.log(b)) < 1e-6);
    assert.throws(() => contrastiveLoss(tensor(new Float32Array(6), [2, 3], { device }), flat), RangeError);
    for (const t of [sharp, flat]) t.dispose();
  });
});
