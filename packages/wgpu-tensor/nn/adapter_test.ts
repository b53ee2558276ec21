import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Device } from "../device/device.ts";
import { tensor } from "../ops/creation/creation.ts";
import { add, mul } from "../ops/elementwise/elementwise_ops.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { testDevice } from "../testing/mod.ts";
import { applyAdapters, type LayerAdapter } from "./adapter.ts";
import { Conv2d } from "./conv2d.ts";
import { Linear } from "./linear.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

describe("layer adapters", () => {
  test("a Linear hands its output to each adapter in insertion order", async () => {
    const layer = new Linear(2, 2, { init: "zeros", bias: false });
    const x = tensor([[1, 2]]);
    const calls: string[] = [];
    const plusOne: LayerAdapter = { apply: (_x, y) => (calls.push("plusOne"), add(y, 1)) };
    const double: LayerAdapter = { apply: (_x, y) => (calls.push("double"), mul(y, 2)) };
    layer.adapters.set("plusOne", plusOne);
    layer.adapters.set("double", double);
    assert.deepEqual(Array.from(await layer.forward(x).toArray()), [2, 2]);
    assert.deepEqual(calls, ["plusOne", "double"]);
  });

  test("adapters see the layer's input, and one that returns its y contributes nothing", async () => {
    const layer = new Conv2d(1, 1, 1, { init: "zeros" });
    const x = tensor([1, 2, 3, 4], [1, 1, 2, 2]);
    const base = Array.from(await layer.forward(x).toArray());
    layer.adapters.set("off", { apply: (_x, y) => y });
    assert.deepEqual(Array.from(await layer.forward(x).toArray()), base);
    layer.adapters.set("input", { apply: (input, y) => add(y, input) });
    assert.deepEqual(Array.from(await layer.forward(x).toArray()), [1, 2, 3, 4]);
  });

  test("adapters are not parameters: names, counts and state dicts stay those of the base layer", () => {
    const layer = new Linear(3, 2);
    layer.adapters.set("lora", { apply: (x, y) => add(y, mul(x, 0)) });
    assert.deepEqual(
      [...layer.namedParameters()].map(([n]) => n),
      ["weight", "bias"],
    );
    assert.deepEqual([...layer.stateDict().keys()], ["weight", "bias"]);
    assert.equal(layer.parameterCount(), 8);
  });

  test("applyAdapters() frees the outputs it replaced but never the input", () => {
    const x = tensor([1, 2]);
    const y = tensor([3, 4]);
    const produced: Tensor[] = [];
    const next: LayerAdapter = {
      apply: (_x, previous) => {
        const out = add(previous, 1);
        produced.push(out);
        return out;
      },
    };
    const out = applyAdapters(
      new Map([
        ["a", next],
        ["b", next],
        ["identity", { apply: (input: Tensor) => input }],
      ]),
      x,
      y,
    );
    assert.equal(out, x);
    assert.ok(y.isDisposed && produced.every((t) => t.isDisposed));
    assert.ok(!x.isDisposed);
  });
});
