import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Device } from "../device/device.ts";
import { tidy } from "../memory/scope.ts";
import { tensor, zeros } from "../ops/creation/creation.ts";
import { DeviceMismatchError } from "../tensor/errors.ts";
import { Tensor } from "../tensor/tensor.ts";
import { testDevice } from "../testing/mod.ts";
import { loadTensorInto, Module, StateDictError } from "./module.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

class Leaf extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  constructor(rows: number, cols: number, isMeta = false) {
    super();
    this.weight = this.registerParameter("weight", isMeta ? Tensor.meta([rows, cols]) : zeros([rows, cols]));
    this.bias = this.registerParameter("bias", isMeta ? Tensor.meta([rows]) : zeros([rows]));
  }
}

class Tree extends Module {
  readonly toQ: Leaf;
  readonly blocks: Leaf[];
  constructor(isMeta = false) {
    super();
    this.toQ = this.registerModule("to_q", new Leaf(2, 3, isMeta));
    this.blocks = [0, 1].map((i) => this.registerModule(`blocks.${i}`, new Leaf(1, 2, isMeta)));
    this.registerBuffer("position_ids", tensor([0, 1, 2], [3], { dtype: "i32" }));
  }
}

describe("Module", () => {
  test("namedParameters() yields checkpoint names in registration order", () => {
    const tree = new Tree();
    assert.deepEqual(
      [...tree.namedParameters()].map(([n]) => n),
      ["to_q.weight", "to_q.bias", "blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias"],
    );
    assert.equal(tree.parameterCount(), 6 + 2 + 2 + 1 + 2 + 1);
    assert.deepEqual([...tree.stateDict().keys()].at(-1), "position_ids");
    tree.dispose();
  });

  test("loadStateDict() copies values by name and parameters survive an enclosing tidy", async () => {
    const tree = new Tree();
    const entries: Record<string, { shape: number[]; data: number[] }> = {};
    let counter = 0;
    for (const [name, value] of tree.stateDict())
      entries[name] = { shape: [...value.shape], data: Array.from({ length: value.size }, () => counter++) };
    tidy(() => tree.loadStateDict(entries));
    assert.deepEqual(Array.from(await tree.toQ.weight.toArray()), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(Array.from(await tree.blocks[1].bias.toArray()), [counter - 4]);
    tree.dispose();
  });

  test("a strict load reports missing, unexpected and mis-shaped keys by name and changes nothing", async () => {
    const tree = new Tree();
    const entries = new Map<string, { shape: number[]; data: number[] }>();
    for (const [name, value] of tree.stateDict()) entries.set(name, { shape: [...value.shape], data: new Array(value.size).fill(7) });
    entries.delete("blocks.0.bias");
    entries.set("to_k.weight", { shape: [1], data: [1] });
    entries.set("to_q.weight", { shape: [3, 2], data: new Array(6).fill(1) });
    assert.throws(
      () => tree.loadStateDict(entries),
      (error: unknown) => {
        assert.ok(error instanceof StateDictError);
        assert.deepEqual(error.report.missing, ["blocks.0.bias"]);
        assert.deepEqual(error.report.unexpected, ["to_k.weight"]);
        assert.deepEqual(error.report.mismatched, [{ name: "to_q.weight", expected: [2, 3], got: [3, 2] }]);
        assert.match(error.message, /expected shape \[2, 3\], got \[3, 2\]/);
        return true;
      },
    );
    assert.deepEqual(Array.from(await tree.toQ.bias.toArray()), [0, 0]);
    const report = tree.loadStateDict(entries, { strict: false });
    assert.equal(report.loaded.length, 5);
    assert.deepEqual(Array.from(await tree.toQ.bias.toArray()), [7, 7]);
    tree.dispose();
  });

  test("loadStateDict() refuses tensors of another device by name before copying anything", async () => {
    const other = await Device.create();
    const tree = new Tree();
    const entries = new Map<string, Tensor>();
    for (const [name, value] of tree.stateDict()) {
      const onOther = name === "blocks.1.weight";
      entries.set(name, tensor(new Array(value.size).fill(5), value.shape, { dtype: value.dtype, device: onOther ? other : device }));
    }
    for (const load of [() => tree.loadStateDict(entries), () => loadTensorInto(tree.blocks[1].weight, entries.get("blocks.1.weight")!)]) {
      assert.throws(load, (error: unknown) => {
        assert.ok(error instanceof DeviceMismatchError, String(error));
        assert.match((error as Error).message, /Cannot load "blocks\.1\.weight"|Cannot load a tensor of shape \[1, 2\]/);
        assert.match((error as Error).message, /another device/);
        return true;
      });
    }
    await device.sync();
    assert.deepEqual(Array.from(await tree.toQ.weight.toArray()), [0, 0, 0, 0, 0, 0]);
    tree.dispose();
    for (const value of entries.values()) value.dispose();
    other.destroy();
  });

  test("a model built from meta tensors allocates nothing until its weights are loaded", async () => {
    const before = device.memory().liveBytes;
    const tree = new Tree(true);
    assert.ok(device.memory().liveBytes - before <= 256, "only the position_ids buffer may be allocated");
    assert.equal(tree.parameterCount(), 14);
    assert.ok(tree.toQ.weight.isMeta);
    assert.throws(() => tree.toQ.weight.buffer, /shape-only \(meta\)/);
    const entries = new Map<string, { shape: number[]; data: number[] }>();
    for (const [name, value] of tree.stateDict()) entries.set(name, { shape: [...value.shape], data: new Array(value.size).fill(3) });
    tree.loadStateDict(entries);
    assert.equal(tree.toQ.weight.isMeta, false);
    assert.deepEqual(Array.from(await tree.toQ.weight.toArray()), [3, 3, 3, 3, 3, 3]);
    tree.dispose();
    assert.equal(device.memory().liveBytes, before);
  });

  test("requiresGrad_(false) freezes every parameter and train()/eval() reach every child", () => {
    const tree = new Tree();
    tree.requiresGrad_(false);
    assert.ok(tree.parameters().every((p) => !p.requiresGrad));
    tree.eval();
    assert.equal(tree.blocks[1].isTraining, false);
    tree.train();
    assert.equal(tree.toQ.isTraining, true);
    tree.dispose();
  });

  test("registering two members under one name is an error", () => {
    const m = new Module();
    m.registerParameter("w", zeros([1]));
    assert.throws(() => m.registerModule("w", new Module()), /already has a member of that name/);
    m.dispose();
  });
});
