import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Device, randn } from "@spo/wgpu-tensor";
import { assertClose, testDevice } from "@spo/wgpu-tensor/testing";
import { VAEAttention, vaeAttentionCore } from "./attention.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

/** Plain-JS VAE attention block on host data: GroupNorm(eps 1e-6), one head over pixels, residual. */
function referenceBlock(x: Float32Array, [b, c, h, w]: number[], groups: number, p: Record<string, ArrayLike<number>>): Float32Array {
  const n = h * w;
  const out = new Float32Array(x.length);
  const per = c / groups;
  for (let bi = 0; bi < b; bi++) {
    const base = bi * c * n;
    const normed = new Float64Array(c * n);
    for (let g = 0; g < groups; g++) {
      const values = x.subarray(base + g * per * n, base + (g + 1) * per * n);
      const mean = values.reduce((s, v) => s + v, 0) / values.length;
      const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length;
      for (let i = 0; i < values.length; i++) {
        const ch = g * per + Math.floor(i / n);
        normed[g * per * n + i] = ((values[i] - mean) / Math.sqrt(variance + 1e-6)) * p.gw[ch] + p.gb[ch];
      }
    }
    const project = (wt: ArrayLike<number>, bias: ArrayLike<number>) => {
      const y = new Float64Array(n * c); // [pixel, channel]
      for (let i = 0; i < n; i++)
        for (let o = 0; o < c; o++) {
          let s = bias[o];
          for (let k = 0; k < c; k++) s += wt[o * c + k] * normed[k * n + i];
          y[i * c + o] = s;
        }
      return y;
    };
    const q = project(p.qw, p.qb);
    const k = project(p.kw, p.kb);
    const v = project(p.vw, p.vb);
    for (let i = 0; i < n; i++) {
      const scores = Array.from({ length: n }, (_, j) => {
        let s = 0;
        for (let d = 0; d < c; d++) s += q[i * c + d] * k[j * c + d];
        return s / Math.sqrt(c);
      });
      const top = Math.max(...scores);
      const weights = scores.map((s) => Math.exp(s - top));
      const total = weights.reduce((s, e) => s + e, 0);
      const attended = Array.from({ length: c }, (_, d) => weights.reduce((s, e, j) => s + e * v[j * c + d], 0) / total);
      for (let o = 0; o < c; o++) {
        let s = p.ob[o];
        for (let d = 0; d < c; d++) s += p.ow[o * c + d] * attended[d];
        out[base + o * n + i] = s + x[base + o * n + i];
      }
    }
  }
  return out;
}

async function blockParams(block: VAEAttention): Promise<Record<string, ArrayLike<number>>> {
  return {
    gw: await block.group_norm.weight!.toArray(),
    gb: await block.group_norm.bias!.toArray(),
    qw: await block.to_q.weight.toArray(),
    qb: await block.to_q.bias!.toArray(),
    kw: await block.to_k.weight.toArray(),
    kb: await block.to_k.bias!.toArray(),
    vw: await block.to_v.weight.toArray(),
    vb: await block.to_v.bias!.toArray(),
    ow: await block.to_out.weight.toArray(),
    ob: await block.to_out.bias!.toArray(),
  };
}

describe("VAEAttention", () => {
  test("matches a plain-JS GroupNorm + single-head attention over pixels + residual", async () => {
    const shape = [2, 8, 3, 5];
    const block = new VAEAttention(8, 4, { seed: 21 });
    const x = randn(shape, { seed: 4 });
    const expected = referenceBlock(Float32Array.from(await x.toArray()), shape, 4, await blockParams(block));
    // f32 dot products of length 8 and a softmax over 15 pixels
    assertClose(await block.forward(x).toArray(), expected, { atol: 1e-5, rtol: 1e-4 });
    block.dispose();
  });

  test("the unfused path (head sizes above the fused kernel's) agrees with the fused one, in one chunk or several", async () => {
    const [q, k, v] = [1, 2, 3].map((seed) => randn([2, 1, 37, 24], { seed }));
    const fused = await vaeAttentionCore(q, k, v).toArray();
    const whole = await vaeAttentionCore(q, k, v, { maxFusedHeadSize: 16 }).toArray();
    const chunked = await vaeAttentionCore(q, k, v, { maxFusedHeadSize: 16, scoreChunkBytes: 4 * 2 * 37 * 5 }).toArray();
    assertClose(whole, fused, { atol: 1e-5, rtol: 1e-4 });
    assertClose(chunked, fused, { atol: 1e-5, rtol: 1e-4 });
    assert.equal(chunked.length, 2 * 37 * 24);
  });

  test("a 512-channel block (SD's single head of 512, unfused) matches the plain-JS block", async () => {
    const shape = [1, 512, 2, 3];
    const block = new VAEAttention(512, 32, { seed: 2 });
    const x = randn(shape, { seed: 9 });
    const expected = referenceBlock(Float32Array.from(await x.toArray()), shape, 32, await blockParams(block));
    // dot products of length 512 in f32
    assertClose(await block.forward(x).toArray(), expected, { atol: 1e-4, rtol: 1e-4 });
    block.dispose();
  });
});
