import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type Device, full, randn, tidy } from "@spo/wgpu-tensor";
import { assertClose, testDevice } from "@spo/wgpu-tensor/testing";
import { CLIPEncoder, CLIPEncoderLayer, type CLIPLayerModulation } from "./clip_encoder.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

const CONFIG = {
  hiddenSize: 8,
  intermediateSize: 12,
  numAttentionHeads: 2,
  numHiddenLayers: 2,
  hiddenAct: "gelu" as const,
  layerNormEps: 1e-5,
};

function constantModulation(batch: number, shift: number, scale: number, gate: number): CLIPLayerModulation {
  const vector = (value: number) => full([batch, 1, CONFIG.hiddenSize], value);
  return {
    shiftMsa: vector(shift),
    scaleMsa: vector(scale),
    gateMsa: vector(gate),
    shiftMlp: vector(shift),
    scaleMlp: vector(scale),
    gateMlp: vector(gate),
  };
}

test("a layer with the identity modulation (shift 0, scale 0, gate 1) is the plain CLIP layer", async () => {
  const layer = new CLIPEncoderLayer(CONFIG, { seed: 3 });
  const x = randn([2, 5, 8], { seed: 4 });
  const plain = await layer.forward(x).toArray();
  const modulated = await layer.forward(x, { modulation: constantModulation(2, 0, 0, 1) }).toArray();
  assertClose(modulated, plain, { atol: 1e-6, rtol: 1e-6 });
  layer.dispose();
});

test("gate 0 makes the layer the identity; shift and scale change the output", async () => {
  const layer = new CLIPEncoderLayer(CONFIG, { seed: 5 });
  const x = randn([1, 3, 8], { seed: 6 });
  assertClose(await layer.forward(x, { modulation: constantModulation(1, 0.3, 0.7, 0) }).toArray(), await x.toArray(), {
    atol: 0,
    rtol: 0,
  });
  const plain = await layer.forward(x).toArray();
  const shifted = await layer.forward(x, { modulation: constantModulation(1, 0.3, 0.7, 1) }).toArray();
  assert.ok(shifted.some((v, i) => Math.abs(v - plain[i]) > 1e-3));
  layer.dispose();
});

test("CLIPEncoder builds its layers through createLayer and hands every layer the conditioning", async () => {
  const seen: number[] = [];
  class CountingLayer extends CLIPEncoderLayer {
    constructor(readonly index: number) {
      super(CONFIG, { seed: 7 + index });
    }
    override forward(x: Parameters<CLIPEncoderLayer["forward"]>[0], options: Parameters<CLIPEncoderLayer["forward"]>[1] = {}) {
      if (options.conditioning) seen.push(this.index);
      return super.forward(x, options);
    }
  }
  const encoder = new CLIPEncoder(CONFIG, {}, (_config, _options, index) => new CountingLayer(index));
  assert.ok(encoder.layers.every((layer, i) => layer instanceof CountingLayer && layer.index === i));
  assert.ok([...encoder.namedParameters()].some(([name]) => name === "layers.1.mlp.fc2.bias"));
  const out = tidy(() => encoder.forward(randn([1, 2, 8], { seed: 1 }), { conditioning: full([1, 4], 1) }));
  assert.deepEqual(out.shape, [1, 2, 8]);
  assert.deepEqual(seen, [0, 1]);
  encoder.dispose();
});
