import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { cast, Conv2d, type Device, Linear, loadTensorInto, RandomGenerator, type Tensor } from "@spo/wgpu-tensor";
import { assertClose, fcRuns, testDevice, toleranceFor } from "@spo/wgpu-tensor/testing";
import { hostConv2d, hostLinear, seededTensor } from "../test/_toy_model.ts";
import type { LoraComponent } from "../formats/components.ts";
import { LoraLayer, type LoraOwner } from "./lora_layer.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

/** An owner with a settable weight, standing in for a LoraAdapter. */
function owner(weight = 1): LoraOwner & { weight: number } {
  return {
    name: "test",
    weight,
    activeWeight(_component: LoraComponent) {
      return this.weight;
    },
  };
}

async function host(t: Tensor): Promise<Float32Array> {
  return Float32Array.from(await t.toArray());
}

/** Loads seeded values into A and B (B is zero after construction). */
function fill(layer: LoraLayer, seed: number): void {
  for (const [i, p] of [layer.lora_A.weight, layer.lora_B.weight].entries()) {
    const values = seededTensor([...p.shape], seed + i, 0.5);
    loadTensorInto(p, values);
    values.dispose();
  }
}

describe("LoraLayer", () => {
  test("a LoRA on a Linear computes x·Wᵀ + b + s·(x·Aᵀ)·Bᵀ with s = weight·alpha/rank", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 33 }),
        fc.integer({ min: 1, max: 17 }),
        fc.integer({ min: 1, max: 8 }),
        fc.option(fc.integer({ min: 1, max: 16 })),
        fc.double({ min: -2, max: 2, noNaN: true }),
        async (rows, inFeatures, outFeatures, rank, alpha, weight) => {
          const base = new Linear(inFeatures, outFeatures, { seed: rows });
          const layer = new LoraLayer(owner(weight), "unet", "proj", base, { rank, alpha, generator: new RandomGenerator(1) });
          fill(layer, rows * 7 + rank);
          base.adapters.set("test", layer);
          const x = seededTensor([rows, inFeatures], 3);
          const y = base.forward(x);
          const [xs, w, b, a, up] = await Promise.all([x, base.weight, base.bias!, layer.lora_A.weight, layer.lora_B.weight].map(host));
          const expected = hostLinear(xs, rows, w, outFeatures, inFeatures, b);
          const hidden = hostLinear(xs, rows, a, rank, inFeatures);
          const branch = hostLinear(hidden, rows, up, outFeatures, rank);
          const scale = weight * (alpha === null ? 1 : alpha / rank);
          for (let i = 0; i < expected.length; i++) expected[i] += scale * branch[i];
          // the base product and the branch are separate sums, each of length ≤ in + rank
          assertClose(
            await host(y),
            expected,
            toleranceFor("f32", inFeatures + rank, 2),
            `rows ${rows}, in ${inFeatures}, out ${outFeatures}, rank ${rank}`,
          );
          for (const t of [x, y]) t.dispose();
          base.dispose();
          layer.dispose();
        },
      ),
      { numRuns: fcRuns(8) },
    );
  });

  test("a LoRA on a Conv2d runs A with the base's kernel, stride, padding and dilation, and B as a 1×1 conv", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(1, 3),
        fc.constantFrom(1, 2),
        fc.constantFrom(0, 1, 2),
        fc.constantFrom(1, 2),
        fc.integer({ min: 1, max: 4 }),
        async (kernel, stride, padding, dilation, rank) => {
          const [batch, inChannels, outChannels, size] = [2, 3, 5, 7];
          const base = new Conv2d(inChannels, outChannels, kernel, { stride, padding, dilation, seed: 5 });
          const layer = new LoraLayer(owner(0.5), "unet", "conv", base, { rank, alpha: 2 * rank, generator: new RandomGenerator(1) });
          fill(layer, kernel * 13 + rank);
          base.adapters.set("test", layer);
          const xShape = [batch, inChannels, size, size];
          const x = seededTensor(xShape, 9);
          const y = base.forward(x);
          const [xs, w, b, a, up] = await Promise.all([x, base.weight, base.bias!, layer.lora_A.weight, layer.lora_B.weight].map(host));
          const options = { stride, padding, dilation };
          const expected = hostConv2d(xs, xShape, w, base.weight.shape, options, b);
          const hidden = hostConv2d(xs, xShape, a, layer.lora_A.weight.shape, options);
          const branch = hostConv2d(hidden.data, hidden.shape, up, layer.lora_B.weight.shape, { stride: 1, padding: 0, dilation: 1 });
          // weight 0.5 × alpha/rank 2 = 1
          for (let i = 0; i < expected.data.length; i++) expected.data[i] += branch.data[i];
          assert.deepEqual([...y.shape], expected.shape);
          assertClose(
            await host(y),
            expected.data,
            toleranceFor("f32", inChannels * kernel * kernel + rank, 2),
            `kernel ${kernel} stride ${stride} padding ${padding} dilation ${dilation} rank ${rank}`,
          );
          for (const t of [x, y]) t.dispose();
          base.dispose();
          layer.dispose();
        },
      ),
      { numRuns: fcRuns(6) },
    );
  });

  test("deltaWeight() is multiplier·(alpha/rank)·B·A in the base weight's shape (B[:, :, 0, 0]·A flattened for a conv)", async () => {
    const base = new Conv2d(4, 6, 3, { padding: 1 });
    const layer = new LoraLayer(owner(), "unet", "conv", base, { rank: 2, alpha: 1, generator: new RandomGenerator(1) });
    fill(layer, 40);
    const delta = layer.deltaWeight(3);
    assert.deepEqual([...delta.shape], [6, 4, 3, 3]);
    const [a, up] = await Promise.all([layer.lora_A.weight, layer.lora_B.weight].map(host));
    const expected = new Float64Array(6 * 36);
    for (let o = 0; o < 6; o++)
      for (let i = 0; i < 36; i++) expected[o * 36 + i] = 3 * 0.5 * (up[o * 2] * a[i] + up[o * 2 + 1] * a[36 + i]);
    assertClose(await host(delta), expected, toleranceFor("f32", 2));
    delta.dispose();
    layer.dispose();
  });

  test("new layers start with B zero and A as PEFT initialises it (kaiming-uniform bound 1/√fan_in, or N(0, 1/r²))", async () => {
    const base = new Linear(256, 64);
    const kaiming = new LoraLayer(owner(), "unet", "a", base, { rank: 16, generator: new RandomGenerator(3) });
    const gaussian = new LoraLayer(owner(), "unet", "b", base, { rank: 16, init: "gaussian", generator: new RandomGenerator(4) });
    const uniformA = await host(kaiming.lora_A.weight);
    assert.ok(
      uniformA.every((v) => Math.abs(v) <= 1 / 16),
      "kaiming-uniform(a=√5) stays within 1/√256",
    );
    // U(−c, c) has variance c²/3: with 4096 samples the estimate is within a few percent
    const variance = uniformA.reduce((s, v) => s + v * v, 0) / uniformA.length;
    assert.ok(Math.abs(variance / (1 / 256 / 3) - 1) < 0.1, `variance ${variance}`);
    const normalA = await host(gaussian.lora_A.weight);
    const std = Math.sqrt(normalA.reduce((s, v) => s + v * v, 0) / normalA.length);
    assert.ok(Math.abs(std * 16 - 1) < 0.1, `std ${std}, expected 1/16`);
    for (const layer of [kaiming, gaussian]) assert.ok((await host(layer.lora_B.weight)).every((v) => v === 0));
    kaiming.dispose();
    gaussian.dispose();
  });

  test("dropout drops LoRA inputs only in training mode, from the adapter's seeded stream", async () => {
    const base = new Linear(32, 8, { seed: 1 });
    const x = seededTensor([16, 32], 2);
    const make = (dropout: number, seed: number) => {
      const layer = new LoraLayer(owner(), "unet", "p", base, { rank: 4, dropout, generator: new RandomGenerator(seed) });
      fill(layer, 70);
      return layer;
    };
    const forwardWith = async (layer: LoraLayer, isTraining: boolean) => {
      base.train(isTraining);
      base.adapters.set("test", layer);
      const y = base.forward(x);
      base.adapters.delete("test");
      const values = await host(y);
      y.dispose();
      return values;
    };
    const plain = make(0, 1);
    const dropped = make(0.5, 5);
    assert.deepEqual(await forwardWith(dropped, false), await forwardWith(plain, false), "eval mode: dropout is the identity");
    const trained = await forwardWith(dropped, true);
    assert.deepEqual(trained, await forwardWith(make(0.5, 5), true), "the same seed drops the same inputs");
    assert.notDeepEqual(trained, await forwardWith(make(0.5, 6), true));
    assert.notDeepEqual(trained, await forwardWith(plain, true));
    x.dispose();
    base.dispose();
  });

  test("an f16 base layer keeps an f32 LoRA: the branch runs in f32 and is added in f16", async (t) => {
    if (!device.hasF16) {
      t.skip("the adapter has no shader-f16");
      return;
    }
    const base = new Linear(16, 8, { dtype: "f16", init: "zeros" });
    for (const [i, p] of [base.weight, base.bias!].entries()) {
      const values = cast(seededTensor([...p.shape], 30 + i), "f16");
      loadTensorInto(p, values);
      values.dispose();
    }
    const layer = new LoraLayer(owner(), "unet", "p", base, { rank: 2, generator: new RandomGenerator(1) });
    fill(layer, 90);
    base.adapters.set("test", layer);
    const x32 = seededTensor([4, 16], 4);
    const x = cast(x32, "f16");
    const y = base.forward(x);
    assert.equal(y.dtype, "f16");
    assert.equal(layer.lora_A.weight.dtype, "f32");
    const [xs, w, b, a, up] = await Promise.all([x, base.weight, base.bias!, layer.lora_A.weight, layer.lora_B.weight].map(host));
    const expected = hostLinear(xs, 4, w, 8, 16, b);
    const branch = hostLinear(hostLinear(xs, 4, a, 2, 16), 4, up, 8, 2);
    for (let i = 0; i < expected.length; i++) expected[i] += branch[i];
    assertClose(await host(y), expected, toleranceFor("f16", 16, 2));
    for (const t of [x32, x, y]) t.dispose();
    base.dispose();
    layer.dispose();
  });

  test("ranks below 1, dropout outside [0, 1) and grouped convolutions are refused by name", () => {
    const generator = new RandomGenerator(0);
    assert.throws(
      () => new LoraLayer(owner(), "unet", "p", new Linear(4, 4), { rank: 0, generator }),
      /Cannot add a LoRA to "p": rank must be a positive integer, got 0/,
    );
    assert.throws(
      () => new LoraLayer(owner(), "unet", "p", new Linear(4, 4), { rank: 2, dropout: 1, generator }),
      /dropout must be in \[0, 1\), got 1/,
    );
    assert.throws(
      () => new LoraLayer(owner(), "unet", "g", new Conv2d(4, 4, 3, { groups: 2 }), { rank: 2, generator }),
      /grouped convolutions \(groups 2\) are not supported/,
    );
  });
});
