// Heavy tier (SPO_HEAVY=1): Stable Diffusion's level-1 self-attention size, 4096 tokens, where the
// full score matrix of 16 heads would take 1 GiB. Checks sampled rows against an f64 reference
// computed for those rows only, and that GPU memory stays far below the score matrix.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Device } from "../../device/device.ts";
import type { HostTensor } from "../../tensor/host_tensor.ts";
import { assertClose, fromHost, randomHost, testDevice, toleranceFor } from "../../testing/mod.ts";
import { scaledDotProductAttention } from "./attention.ts";
import { attentionBackward } from "./attention_backward.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

const LENGTH = 4096;

/** A row of a [B, H, L, C] host tensor. */
function row(t: HostTensor, bh: number, i: number): Float64Array {
  const [, , length, size] = t.shape;
  const start = (bh * length + i) * size;
  return t.data.subarray(start, start + size);
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let c = 0; c < a.length; c++) sum += a[c] * b[c];
  return sum;
}

/** Softmax weights of query row i of head bh against every key (f64). */
function weightsOf(query: HostTensor, key: HostTensor, bh: number, i: number, scale: number): Float64Array {
  const [, , keys, size] = key.shape;
  const scores = new Float64Array(keys);
  const q = row(query, bh, i);
  const keyData = key.data;
  for (let j = 0, start = bh * keys * size; j < keys; j++, start += size) {
    let sum = 0;
    for (let c = 0; c < size; c++) sum += q[c] * keyData[start + c];
    scores[j] = sum * scale;
  }
  const max = scores.reduce((a, b) => Math.max(a, b), -Infinity);
  let sum = 0;
  scores.forEach((s, j) => {
    scores[j] = Math.exp(s - max);
    sum += scores[j];
  });
  return scores.map((w) => w / sum);
}

/** Σ_j weights_j · rows_j of a [B, H, L, C] tensor's head bh. */
function weightedRows(weights: Float64Array, t: HostTensor, bh: number): Float64Array {
  const out = new Float64Array(t.shape[3]);
  weights.forEach((w, j) => {
    const r = row(t, bh, j);
    for (let c = 0; c < out.length; c++) out[c] += w * r[c];
  });
  return out;
}

describe("scaledDotProductAttention at 4096 tokens", () => {
  for (const headSize of [40, 64, 80, 160]) {
    test(`forward runs with 16 heads of size ${headSize} and matches sampled reference rows`, async () => {
      const shape = [2, 8, LENGTH, headSize];
      const [query, key, value] = [1, 2, 3].map((seed) => randomHost(shape, seed + headSize));
      const scale = 1 / Math.sqrt(headSize);
      const inputs = [query, key, value].map((host) => fromHost(host));
      device.pool.resetPeak();
      const peakBefore = device.memory().peakBytes;
      const out = scaledDotProductAttention(inputs[0], inputs[1], inputs[2]);
      const actual = await out.toArray();
      // the output (16 MiB at D = 40) is all that is added: nothing near the 1 GiB score matrix
      assert.ok(
        device.memory().peakBytes - peakBefore <= 2 * out.byteLength,
        `peak grew by ${device.memory().peakBytes - peakBefore} bytes`,
      );
      const tolerance = toleranceFor("f32", headSize + LENGTH, 4);
      for (const [bh, i] of [
        [0, 0],
        [3, 1],
        [7, 2048],
        [15, LENGTH - 1],
        [9, 777],
      ]) {
        const expected = weightedRows(weightsOf(query, key, bh, i, scale), value, bh);
        const start = (bh * LENGTH + i) * headSize;
        assertClose(actual.subarray(start, start + headSize), expected, tolerance, `head ${bh}, row ${i}`);
      }
      [out, ...inputs].forEach((t) => t.dispose());
    });
  }

  test("backward runs at head size 40 and matches sampled rows of dQ, dK and dV", async () => {
    const headSize = 40;
    const shape = [1, 2, LENGTH, headSize];
    const [query, key, value, outGrad] = [1, 2, 3, 4].map((seed) => randomHost(shape, seed));
    const scale = 1 / Math.sqrt(headSize);
    const [q, k, v, dy] = [query, key, value, outGrad].map((host) => fromHost(host));
    const output = scaledDotProductAttention(q, k, v);
    const grads = attentionBackward({ inputs: [q, k, v], output, dy, attrs: { scale, isCausal: false } });
    const [dq, dk, dv] = await Promise.all(grads.map((g) => g!.toArray()));
    // head 1: per-query softmax weights and delta = dO·O for every query (what dK and dV sum over)
    const bh = 1;
    const weights = Array.from({ length: LENGTH }, (_, i) => weightsOf(query, key, bh, i, scale));
    const delta = weights.map((w, i) => dot(row(outGrad, bh, i), weightedRows(w, value, bh)));
    const dS = (i: number, j: number) => weights[i][j] * (dot(row(outGrad, bh, i), row(value, bh, j)) - delta[i]);
    const tolerance = toleranceFor("f32", 2 * LENGTH + 2 * headSize, 8);
    for (const index of [0, 1, 1234, LENGTH - 1]) {
      const expectedQ = new Float64Array(headSize);
      const expectedK = new Float64Array(headSize);
      const expectedV = new Float64Array(headSize);
      for (let other = 0; other < LENGTH; other++) {
        const toQuery = dS(index, other) * scale;
        const toKey = dS(other, index) * scale;
        const p = weights[other][index];
        const [keyRow, queryRow, gradRow] = [row(key, bh, other), row(query, bh, other), row(outGrad, bh, other)];
        for (let c = 0; c < headSize; c++) {
          expectedQ[c] += toQuery * keyRow[c];
          expectedK[c] += toKey * queryRow[c];
          expectedV[c] += p * gradRow[c];
        }
      }
      const start = (bh * LENGTH + index) * headSize;
      assertClose(dq.subarray(start, start + headSize), expectedQ, tolerance, `dQ row ${index}`);
      assertClose(dk.subarray(start, start + headSize), expectedK, tolerance, `dK row ${index}`);
      assertClose(dv.subarray(start, start + headSize), expectedV, tolerance, `dV row ${index}`);
    }
    [q, k, v, dy, output, ...grads.map((g) => g!)].forEach((t) => t.dispose());
  });
});
