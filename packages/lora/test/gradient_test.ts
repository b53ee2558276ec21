// Only LoRA parameters receive gradients, and those gradients are right: finite differences of
// an f64 host model for a small Linear stack, and a directional finite difference on a tiny UNet.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { UNet2DConditionModel } from "@spo/diffusion-unet";
import { backward, type Device, Linear, loadTensorInto, Module, mul, noGrad, silu, sum, type Tensor } from "@spo/wgpu-tensor";
import { assertClose, seededValues, testDevice } from "@spo/wgpu-tensor/testing";
import { injectLora } from "../adapter/inject_lora.ts";
import { hostLinear, randomizeLora, seededTensor } from "./_toy_model.ts";
import { TINY_UNET_CONFIG } from "./_tiny_unet.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

class Mlp extends Module {
  readonly fc1 = this.registerModule("fc1", new Linear(5, 6, { seed: 1 }));
  readonly fc2 = this.registerModule("fc2", new Linear(6, 3, { seed: 2 }));
  forward(x: Tensor): Tensor {
    return this.fc2.forward(silu(this.fc1.forward(x)));
  }
}

const hostSilu = (v: number) => v / (1 + Math.exp(-v));

/** Σ G ∘ fc2(silu(fc1(x))) with LoRA branches, all in f64; `p` holds the LoRA values by name. */
function hostLoss(
  x: Float32Array,
  rows: number,
  base: Map<string, Float32Array>,
  p: Map<string, Float64Array>,
  g: Float64Array,
  scale: number,
): number {
  const layer = (input: ArrayLike<number>, name: string, inF: number, outF: number) => {
    const y = hostLinear(input, rows, base.get(`${name}.weight`)!, outF, inF, base.get(`${name}.bias`)!);
    const a = p.get(`unet.${name}.lora_A.weight`)!;
    const b = p.get(`unet.${name}.lora_B.weight`)!;
    const rank = a.length / inF;
    const branch = hostLinear(hostLinear(input, rows, a, rank, inF), rows, b, outF, rank);
    return y.map((v, i) => v + scale * branch[i]);
  };
  const hidden = layer(x, "fc1", 5, 6).map(hostSilu);
  const out = layer(hidden, "fc2", 6, 3);
  return out.reduce((s, v, i) => s + v * g[i], 0);
}

describe("LoRA gradients", () => {
  test("gradients of a LoRA'd Linear stack match finite differences of the f64 model, and base parameters get none", async () => {
    const model = new Mlp();
    const adapter = injectLora(model, { rank: 2, alpha: 3, targetModules: ["fc1", "fc2"] });
    randomizeLora(adapter, 5, 0.5);
    const rows = 4;
    const x = seededTensor([rows, 5], 1);
    const g = seededValues(2, rows * 3);
    const loss = sum(mul(model.forward(x), seededTensor([rows, 3], 2)));
    backward(loss);
    assert.ok(
      model.parameters().every((p) => p.grad === null && !p.requiresGrad),
      "the base is frozen",
    );
    const base = new Map<string, Float32Array>();
    for (const [name, t] of model.namedParameters()) base.set(name, Float32Array.from(await t.toArray()));
    const lora = new Map<string, Float64Array>();
    for (const [name, t] of adapter.namedParameters()) lora.set(name, Float64Array.from(await t.toArray()));
    const xs = Float32Array.from(await x.toArray());
    const gs = Float64Array.from(Float32Array.from(g));
    const step = 1e-6;
    for (const [name, t] of adapter.namedParameters()) {
      assert.ok(t.grad, `${name} has a gradient`);
      const values = lora.get(name)!;
      const numeric = values.map((_, i) => {
        const original = values[i];
        values[i] = original + step;
        const plus = hostLoss(xs, rows, base, lora, gs, 1.5);
        values[i] = original - step;
        const minus = hostLoss(xs, rows, base, lora, gs, 1.5);
        values[i] = original;
        return (plus - minus) / (2 * step);
      });
      // f32 forward and backward over sums of at most 6 terms per element, against f64 differences
      assertClose(await t.grad!.toArray(), numeric, { atol: 2e-5, rtol: 1e-4 }, name);
    }
    for (const t of [x, loss]) t.dispose();
    adapter.remove();
  });

  test("on a tiny UNet only the LoRA parameters get gradients, and they agree with a directional finite difference", async () => {
    const unet = UNet2DConditionModel.fromConfig(TINY_UNET_CONFIG, { seed: 3 });
    const adapter = injectLora(unet, { rank: 2, targetModules: ["to_q", "to_k", "to_v", "to_out.0"], init: "gaussian", seed: 4 });
    randomizeLora(adapter, 9, 0.2);
    const sample = seededTensor([1, 4, 8, 8], 1);
    const context = seededTensor([1, 5, 8], 2);
    const weights = seededTensor([1, 4, 8, 8], 3);
    const lossOf = () => sum(mul(unet.forward(sample, 500, context), weights));
    const loss = lossOf();
    backward(loss);
    assert.ok(
      unet.parameters().every((p) => p.grad === null),
      "no base parameter of the UNet has a gradient",
    );
    assert.equal(
      adapter.parameters().length,
      4 * 2 * 4 * 2,
      "4 transformer blocks (down 1, mid 1, up 2) × 2 attentions × 4 projections × (A, B)",
    );
    assert.ok(
      adapter.parameters().every((p) => p.grad !== null),
      "every LoRA matrix has a gradient",
    );

    // ⟨∇L, v⟩ against (L(θ + hv) − L(θ − hv)) / 2h for one random direction v over all LoRA parameters
    const parameters = [...adapter.namedParameters()].map(([, p]) => p);
    const originals = await Promise.all(parameters.map(async (p) => Float32Array.from(await p.toArray())));
    const directions = parameters.map((p, i) => Float32Array.from(seededValues(100 + i, p.size)));
    let analytic = 0;
    for (const [i, p] of parameters.entries()) {
      const grad = await p.grad!.toArray();
      for (let e = 0; e < grad.length; e++) analytic += grad[e] * directions[i][e];
    }
    const step = 1e-2;
    const lossAt = async (h: number) =>
      noGrad(async () => {
        parameters.forEach((p, i) => loadTensorInto(p, { shape: p.shape, data: originals[i].map((v, e) => v + h * directions[i][e]) }));
        const value = lossOf();
        const result = await value.item();
        value.dispose();
        return result;
      });
    const numeric = ((await lossAt(step)) - (await lossAt(-step))) / (2 * step);
    // f32 losses of magnitude ~10 differ by ~1e-6 relative; over 2h = 0.02 that is ~1e-3 absolute
    assert.ok(
      Math.abs(numeric - analytic) <= 2e-3 + 2e-2 * Math.abs(analytic),
      `directional derivative ${analytic}, finite difference ${numeric}`,
    );
    assert.ok(Math.abs(analytic) > 1e-2, `the check is not vacuous (⟨∇L, v⟩ = ${analytic})`);
    for (const t of [sample, context, weights, loss]) t.dispose();
    adapter.remove();
    unet.dispose();
  });
});
