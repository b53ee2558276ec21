import { after, before, test } from "node:test";
import { add, backward, type Device, mul, randn, sum } from "@spo/wgpu-tensor";
import { assertClose, testDevice } from "@spo/wgpu-tensor/testing";
import { AdaLNModulation } from "./adaln_modulation.ts";
import { TimestepEmbedder, timestepSinusoid } from "./timestep_embedder.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

const silu = (v: number) => v / (1 + Math.exp(-v));

function linear(x: Float64Array, rows: number, inF: number, w: Float64Array, b: Float64Array, outF: number): Float64Array {
  const y = new Float64Array(rows * outF);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outF; o++) {
      let acc = b[o];
      for (let i = 0; i < inF; i++) acc += x[r * inF + i] * w[o * inF + i];
      y[r * outF + o] = acc;
    }
  }
  return y;
}

test("time path: gradients through t_embedder and the final adaLN on the pooled output match finite differences of an f64 reference", async () => {
  const [hidden, frequencies] = [6, 8];
  const timesteps = [3, 640];
  const embedder = new TimestepEmbedder(hidden, frequencies, { seed: 31, device });
  const modulation = new AdaLNModulation(hidden, 2, { seed: 32, device });
  const pooled = randn([2, hidden], { seed: 4, device });
  const upstream = randn([2, hidden], { seed: 5, device });
  pooled.requiresGrad = true;
  const [shift, scale] = modulation.forward(embedder.forward(timesteps));
  backward(sum(mul(add(add(pooled, mul(pooled, scale)), shift), upstream)));

  const host = async (t: { toArray(): Promise<ArrayLike<number>> }) => Float64Array.from(await t.toArray());
  const w0 = await host(embedder.mlp.first.weight);
  const b0 = await host(embedder.mlp.first.bias!);
  const w2 = await host(embedder.mlp.second.weight);
  const b2 = await host(embedder.mlp.second.bias!);
  const wa = await host(modulation.linear.weight);
  const ba = await host(modulation.linear.bias!);
  const p = await host(pooled);
  const g = await host(upstream);
  const sinusoid = Float64Array.from(timestepSinusoid(timesteps, frequencies));
  const loss = () => {
    const tEmb = linear(linear(sinusoid, 2, frequencies, w0, b0, hidden).map(silu), 2, hidden, w2, b2, hidden);
    const chunks = linear(tEmb.map(silu), 2, hidden, wa, ba, 2 * hidden);
    let total = 0;
    for (let r = 0; r < 2; r++) {
      for (let i = 0; i < hidden; i++) {
        const out = p[r * hidden + i] * (1 + chunks[r * 2 * hidden + hidden + i]) + chunks[r * 2 * hidden + i];
        total += out * g[r * hidden + i];
      }
    }
    return total;
  };
  const numeric = (target: Float64Array) =>
    target.map((saved, i) => {
      target[i] = saved + 1e-6;
      const plus = loss();
      target[i] = saved - 1e-6;
      const minus = loss();
      target[i] = saved;
      return (plus - minus) / 2e-6;
    });
  const tolerance = { atol: 1e-4, rtol: 1e-3 };
  assertClose(await pooled.grad!.toArray(), numeric(p), tolerance, "d/d pooled");
  assertClose(await modulation.linear.weight.grad!.toArray(), numeric(wa), tolerance, "d/d adaLN_modulation.1.weight");
  assertClose(await modulation.linear.bias!.grad!.toArray(), numeric(ba), tolerance, "d/d adaLN_modulation.1.bias");
  assertClose(await embedder.mlp.second.weight.grad!.toArray(), numeric(w2), tolerance, "d/d t_embedder.mlp.2.weight");
  assertClose(await embedder.mlp.first.weight.grad!.toArray(), numeric(w0), tolerance, "d/d t_embedder.mlp.0.weight");
  assertClose(await embedder.mlp.first.bias!.grad!.toArray(), numeric(b0), tolerance, "d/d t_embedder.mlp.0.bias");
});
