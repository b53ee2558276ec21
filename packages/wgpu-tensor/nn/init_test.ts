import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Device } from "../device/device.ts";
import { testDevice } from "../testing/mod.ts";
import { exactBytes } from "../memory/buffer_pool.ts";
import { type LayerOptions, withInitStream } from "./init.ts";
import { Linear } from "./linear.ts";
import { LayerNorm } from "./norms.ts";
import { Module } from "./module.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

/** A model the way ours are built: the top seeds a stream, its layers share it. */
class TwoLayers extends Module {
  readonly first: Linear;
  readonly second: Linear;
  constructor(given: LayerOptions) {
    super();
    const options = withInitStream(given);
    this.first = this.registerModule("first", new Linear(5, 3, options));
    this.second = this.registerModule("second", new Linear(5, 3, options));
  }
}

async function weights(model: Module): Promise<number[][]> {
  return Promise.all(model.parameters().map(async (p) => [...(await p.toArray())]));
}

describe("seeded initialisation", () => {
  test("a seeded model gets the same weights however many layers were built before it", async () => {
    const first = new TwoLayers({ seed: 7, device });
    const unrelated = [new Linear(9, 4, { device }), new Linear(3, 3, { device, seed: 7 })];
    const again = new TwoLayers({ seed: 7, device });
    assert.deepEqual(await weights(again), await weights(first));
    for (const m of [first, again, ...unrelated]) m.dispose();
  });

  test("layers of one build draw from different offsets, and another seed gives other weights", async () => {
    const model = new TwoLayers({ seed: 7, device });
    const [w1, b1, w2, b2] = await weights(model);
    assert.notDeepEqual(w1, w2);
    assert.notDeepEqual(b1, b2);
    const other = new TwoLayers({ seed: 8, device });
    assert.notDeepEqual((await weights(other))[0], w1);
    // still PyTorch's init: U(±1/√in)
    for (const v of [...w1!, ...b1!]) assert.ok(Math.abs(v) <= 1 / Math.sqrt(5));
    model.dispose();
    other.dispose();
  });

  test("unseeded builds keep drawing from one process-wide sequence (two builds differ)", async () => {
    const a = new TwoLayers({ device });
    const b = new TwoLayers({ device });
    assert.notDeepEqual((await weights(a))[0], (await weights(b))[0]);
    a.dispose();
    b.dispose();
  });

  test("withInitStream leaves unseeded options alone and keeps a stream that is already there", () => {
    const unseeded = { device };
    assert.equal(withInitStream(unseeded), unseeded);
    const seeded = withInitStream({ seed: 3 });
    assert.deepEqual(seeded.initStream, { seed: 3, offset: 0 });
    assert.equal(withInitStream(seeded), seeded);
  });

  test("parameters are stored at their own size (16-byte multiples), not in pool buckets", async () => {
    await device.sync();
    const before = device.memory().liveBytes;
    const layer = new Linear(5, 77, { device, seed: 1 }); // weight 1540 B (bucket 1792), bias 308 B (bucket 320)
    await device.sync();
    assert.equal(device.memory().liveBytes - before, exactBytes(5 * 77 * 4) + exactBytes(77 * 4));
    assert.equal(layer.weight.buffer.size, 1552);
    layer.dispose();
  });

  test("zero and constant parameters are filled in place: building them needs no temporary copy", async () => {
    await device.sync();
    const before = device.memory().liveBytes;
    device.pool.resetPeak();
    const layer = new Linear(1000, 300, { device, init: "zeros" });
    const norm = new LayerNorm(300, { device });
    await device.sync();
    const exact = exactBytes(1000 * 300 * 4) + 3 * exactBytes(300 * 4);
    assert.equal(device.memory().peakBytes - before, exact);
    assert.ok((await layer.weight.toArray()).every((v) => v === 0));
    assert.ok((await norm.weight!.toArray()).every((v) => v === 1));
    assert.ok((await norm.bias!.toArray()).every((v) => v === 0));
    layer.dispose();
    norm.dispose();
  });
});
