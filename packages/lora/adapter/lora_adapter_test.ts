import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { type Device, noGrad, type Tensor, tidy } from "@spo/wgpu-tensor";
import { assertClose, fcRuns, testDevice, toleranceFor } from "@spo/wgpu-tensor/testing";
import { parameterValues, randomizeLora, seededTensor, ToyModel } from "../test/_toy_model.ts";
import { injectLora } from "./inject_lora.ts";
import { disableAdapters, enableAdapters, loraAdaptersOf, setAdapters, withAdaptersDisabled } from "./switching.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

const TARGETS = ["proj_in", "to_q", "to_k", "to_out.0"];
// conv 3×3 over 3 channels (27 terms) then three linears of width 8 in a row
const TOLERANCE = toleranceFor("f32", 27 + 3 * 16, 4);

async function run(model: ToyModel, x: Tensor): Promise<Float32Array> {
  const y = model.forward(x);
  const values = Float32Array.from(await y.toArray());
  y.dispose();
  return values;
}

describe("LoraAdapter switching", () => {
  test("disabling every adapter gives exactly the base model, and re-enabling gives the adapted one again", async () => {
    const model = new ToyModel();
    const x = seededTensor([2, 3, 4, 4], 1);
    const base = await run(model, x);
    const first = injectLora(model, { name: "a", rank: 2, targetModules: TARGETS });
    const second = injectLora(model, { name: "b", rank: 3, targetModules: ["to_q"] });
    randomizeLora(first, 10);
    randomizeLora(second, 20);
    const adapted = await run(model, x);
    assert.notDeepEqual(adapted, base);
    disableAdapters(model);
    assert.deepEqual(await run(model, x), base);
    assert.deepEqual(
      withAdaptersDisabled(model, () => loraAdaptersOf(model).map((a) => a.isEnabled)),
      [false, false],
    );
    enableAdapters(model);
    assert.deepEqual(await run(model, x), adapted);
    first.remove();
    second.remove();
    x.dispose();
  });

  test("withAdaptersDisabled() restores each adapter's own state, also when the function throws", () => {
    const model = new ToyModel();
    const on = injectLora(model, { name: "on", rank: 2, targetModules: ["to_q"] });
    const off = injectLora(model, { name: "off", rank: 2, targetModules: ["to_k"] });
    off.isEnabled = false;
    assert.throws(
      () =>
        withAdaptersDisabled(model, () => {
          throw new Error("boom");
        }),
      /boom/,
    );
    assert.deepEqual([on.isEnabled, off.isEnabled], [true, false]);
    on.remove();
    off.remove();
  });

  test("weight 0 gives exactly the base model", async () => {
    const model = new ToyModel();
    const x = seededTensor([1, 3, 5, 3], 2);
    const base = await run(model, x);
    const adapter = injectLora(model, { rank: 2, targetModules: TARGETS });
    randomizeLora(adapter, 30);
    adapter.weight = 0;
    assert.deepEqual(await run(model, x), base);
    adapter.remove();
    x.dispose();
  });

  test("two LoRAs at weights a and b give the model whose weights have a·ΔW₁ + b·ΔW₂ merged in", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.double({ min: -2, max: 2, noNaN: true }),
        fc.double({ min: -2, max: 2, noNaN: true }),
        fc.integer({ min: 1, max: 4 }),
        async (a, b, rank) => {
          const model = new ToyModel();
          const x = seededTensor([2, 3, 3, 3], 3);
          const first = injectLora(model, { name: "first", rank, alpha: 2 * rank, targetModules: TARGETS });
          const second = injectLora(model, { name: "second", rank: 5 - rank, targetModules: ["to_q", "to_out.0"] });
          randomizeLora(first, 40 + rank);
          randomizeLora(second, 50 + rank);
          first.weight = a;
          second.weight = b;
          const stacked = await run(model, x);
          first.merge();
          second.merge();
          assert.ok(first.isMerged && second.isMerged);
          const merged = await run(model, x);
          assertClose(merged, stacked, TOLERANCE, `a ${a}, b ${b}, rank ${rank}`);
          first.remove();
          second.remove();
          x.dispose();
          model.dispose();
        },
      ),
      { numRuns: fcRuns(4) },
    );
  });

  test("merge() then unmerge() restores every base weight to within f32 rounding", async () => {
    await fc.assert(
      // weight 0 merges nothing (covered by its own test); the others change exactly the adapted weights
      fc.asyncProperty(
        fc.double({ min: -3, max: 3, noNaN: true }).filter((w) => Math.abs(w) > 1e-3),
        fc.integer({ min: 1, max: 6 }),
        async (weight, rank) => {
          const model = new ToyModel();
          const before = await parameterValues(model);
          const adapter = injectLora(model, { rank, targetModules: TARGETS });
          randomizeLora(adapter, 60 + rank, 1);
          adapter.weight = weight;
          adapter.merge();
          const merged = await parameterValues(model);
          adapter.unmerge();
          const after = await parameterValues(model);
          for (const [name, original] of before) {
            const restored = after.get(name)!;
            const withDelta = merged.get(name)!;
            for (let i = 0; i < original.length; i++) {
              // (W + d) − d rounds twice: within one unit in the last place of |W| + 2|d| each time
              const delta = Math.abs(withDelta[i] - original[i]);
              const allowed = 2 ** -23 * 2 * (Math.abs(original[i]) + 2 * delta);
              assert.ok(Math.abs(restored[i] - original[i]) <= allowed, `${name}[${i}]: ${restored[i]} vs ${original[i]} (ΔW ${delta})`);
            }
          }
          const changed = [...merged].filter(([name, values]) => values.some((v, i) => v !== before.get(name)![i])).map(([name]) => name);
          assert.deepEqual(changed.sort(), [
            "blocks.0.to_k.weight",
            "blocks.0.to_out.0.weight",
            "blocks.0.to_q.weight",
            "blocks.1.to_k.weight",
            "blocks.1.to_out.0.weight",
            "blocks.1.to_q.weight",
            "proj_in.weight",
          ]);
          adapter.remove();
          model.dispose();
        },
      ),
      { numRuns: fcRuns(4) },
    );
  });

  test("a merged adapter gives the unmerged output, and remove() unmerges and detaches it", async () => {
    const model = new ToyModel();
    const x = seededTensor([1, 3, 4, 4], 4);
    const base = await run(model, x);
    const adapter = injectLora(model, { rank: 3, targetModules: TARGETS });
    randomizeLora(adapter, 70);
    const unmerged = await run(model, x);
    adapter.merge();
    assertClose(await run(model, x), unmerged, TOLERANCE);
    adapter.remove();
    assert.equal(model.proj_in.adapters.size, 0);
    assert.deepEqual(loraAdaptersOf(model), []);
    assertClose(await run(model, x), base, TOLERANCE);
    x.dispose();
  });

  test("per-component weights override the adapter weight for their component only", () => {
    const model = new ToyModel();
    const adapter = injectLora(model, { rank: 2, targetModules: ["to_q"] });
    adapter.weight = 0.8;
    adapter.setComponentWeight("text_encoder", 0.3);
    assert.equal(adapter.weightFor("unet"), 0.8);
    assert.equal(adapter.weightFor("text_encoder"), 0.3);
    adapter.setComponentWeight("text_encoder", undefined);
    assert.equal(adapter.weightFor("text_encoder"), 0.8);
    adapter.remove();
  });

  test("setAdapters() activates the named adapters with their weights and turns the others off", () => {
    const model = new ToyModel();
    const [a, b, c] = ["a", "b", "c"].map((name) => injectLora(model, { name, rank: 2, targetModules: ["to_q"] }));
    setAdapters(model, ["c", "a"], [0.5, 2]);
    assert.deepEqual(
      [a, b, c].map((x) => [x.isEnabled, x.weight]),
      [
        [true, 2],
        [false, 1],
        [true, 0.5],
      ],
    );
    assert.throws(() => setAdapters(model, ["d"]), /Cannot set adapter "d": the model has only "a", "b", "c"/);
    [a, b, c].forEach((x) => x.remove());
  });

  test("a merged adapter refuses to change weight, to be disabled or merged again, and a removed one refuses everything", () => {
    const model = new ToyModel();
    const adapter = injectLora(model, { name: "spo", rank: 2, targetModules: ["to_q"] });
    adapter.merge();
    assert.throws(
      () => (adapter.weight = 2),
      /Cannot change the weight of adapter "spo": it is merged into the base weights; unmerge it first/,
    );
    assert.throws(() => (adapter.isEnabled = false), /Cannot disable adapter "spo": it is merged/);
    const other = injectLora(model, { name: "other", rank: 2, targetModules: ["to_k"] });
    assert.throws(
      () => withAdaptersDisabled(model, () => 0),
      /Cannot disable adapter "spo": it is merged into the base weights; unmerge it first/,
    );
    assert.throws(() => disableAdapters(model), /Cannot disable adapter "spo"/);
    assert.ok(other.isEnabled, "nothing was switched off half-way");
    other.remove();
    assert.throws(() => adapter.merge(), /Cannot merge adapter "spo": it is already merged/);
    assert.throws(
      () => injectLora(model, { name: "spo", rank: 2, targetModules: ["to_q"] }),
      /Cannot add adapter "spo" to "unet.blocks.0.to_q": the layer already has an adapter of that name/,
    );
    adapter.remove();
    assert.throws(() => adapter.merge(), /Cannot merge adapter "spo": it was removed/);
    assert.throws(() => adapter.unmerge(), /it was removed/);
  });

  test("inference forwards, merges and remove() leave GPU memory where it was", async () => {
    const model = new ToyModel();
    const x = seededTensor([1, 3, 4, 4], 5);
    const baseline = device.memory().liveBytes;
    const adapter = injectLora(model, { rank: 2, targetModules: TARGETS, dropout: 0.1 });
    randomizeLora(adapter, 80);
    const withAdapter = device.memory().liveBytes;
    for (const isTraining of [true, false]) {
      model.train(isTraining);
      // without noGrad the autograd graph would keep its saved tensors until backward
      noGrad(() => tidy(() => model.forward(x))).dispose();
    }
    adapter.merge();
    adapter.unmerge();
    assert.equal(device.memory().liveBytes, withAdapter, "forwards and merges free every intermediate");
    adapter.remove();
    assert.equal(device.memory().liveBytes, baseline, "remove() frees the adapter's parameters");
    x.dispose();
  });
});
