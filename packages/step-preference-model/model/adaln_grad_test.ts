import { after, before, test } from "node:test";
import { backward, type Device, mul, randn, sum } from "@spo/wgpu-tensor";
import { assertClose, testDevice } from "@spo/wgpu-tensor/testing";
import { type LayerShape, type Params, referenceLayer } from "../test/_layer_reference.ts";
import { TimeConditionedEncoderLayer } from "./time_conditioned_vision.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

const SHAPE: LayerShape = { batch: 2, length: 3, hidden: 4, heads: 2, intermediate: 6 };
const CONFIG = {
  hiddenSize: 4,
  intermediateSize: 6,
  numAttentionHeads: 2,
  numHiddenLayers: 1,
  hiddenAct: "quick_gelu" as const,
  layerNormEps: 1e-5,
};

/** Central differences of L = Σ out·G w.r.t. every element of one f64 array (mutated and restored). */
function numericGradient(target: Float64Array, loss: () => number, step = 1e-6): Float64Array {
  const grad = new Float64Array(target.length);
  for (let i = 0; i < target.length; i++) {
    const saved = target[i];
    target[i] = saved + step;
    const plus = loss();
    target[i] = saved - step;
    const minus = loss();
    target[i] = saved;
    grad[i] = (plus - minus) / (2 * step);
  }
  return grad;
}

test("adaLN path: the GPU gradients of the time-conditioned layer match finite differences of an f64 reference", async () => {
  const layer = new TimeConditionedEncoderLayer(CONFIG, { seed: 21, device });
  const x = randn([2, 3, 4], { seed: 1, device });
  const c = randn([2, 4], { seed: 2, device });
  const upstream = randn([2, 3, 4], { seed: 3, device });
  x.requiresGrad = true;
  c.requiresGrad = true;
  backward(sum(mul(layer.forward(x, { conditioning: c }), upstream)));

  const params: Params = new Map();
  for (const [name, p] of layer.namedParameters()) params.set(name, Float64Array.from(await p.toArray()));
  const xHost = Float64Array.from(await x.toArray());
  const cHost = Float64Array.from(await c.toArray());
  const g = Float64Array.from(await upstream.toArray());
  const loss = () => referenceLayer(params, xHost, cHost, SHAPE).reduce((total, v, i) => total + v * g[i], 0);
  const tolerance = { atol: 2e-4, rtol: 2e-3 };

  assertClose(await c.grad!.toArray(), numericGradient(cHost, loss), tolerance, "d/d conditioning");
  assertClose(await x.grad!.toArray(), numericGradient(xHost, loss), tolerance, "d/d x");
  for (const name of [
    "adaLN_modulation.1.weight",
    "adaLN_modulation.1.bias",
    "layer_norm1.weight",
    "self_attn.q_proj.weight",
    "mlp.fc2.bias",
  ]) {
    const parameter = [...layer.namedParameters()].find(([n]) => n === name)![1];
    assertClose(await parameter.grad!.toArray(), numericGradient(params.get(name)!, loss), tolerance, `d/d ${name}`);
  }
  layer.dispose();
});
