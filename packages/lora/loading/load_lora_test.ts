import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { parseSafetensors, serializeSafetensors } from "@spo/safetensors";
import type { Device, Tensor } from "@spo/wgpu-tensor";
import { assertClose, testDevice, toleranceFor } from "@spo/wgpu-tensor/testing";
import { injectLora } from "../adapter/inject_lora.ts";
import { loraAdaptersOf } from "../adapter/switching.ts";
import { LoraLoadError } from "../formats/load_report.ts";
import { LORA_FORMATS } from "../formats/lora_keys.ts";
import { randomizeLora, seededTensor, ToyModel } from "../test/_toy_model.ts";
import { applyLoras } from "./apply_loras.ts";
import { loadLora } from "./load_lora.ts";
import { saveLora } from "./save_lora.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

const TARGETS = ["proj_in", "to_q", "to_k", "to_out.0"];
const TOLERANCE = toleranceFor("f32", 27 + 3 * 16, 4);

async function run(model: ToyModel, x: Tensor): Promise<Float32Array> {
  const y = model.forward(x);
  const values = Float32Array.from(await y.toArray());
  y.dispose();
  return values;
}

/** A trained-looking adapter on a model, saved in a format, as safetensors bytes. */
async function savedLora(format: (typeof LORA_FORMATS)[number], seed: number, alpha: number) {
  const source = new ToyModel();
  const adapter = injectLora(source, { rank: 3, alpha, targetModules: TARGETS });
  randomizeLora(adapter, seed);
  const formatted = await saveLora(adapter, format, { models: source });
  return { source, adapter, formatted, bytes: serializeSafetensors(formatted.tensors, formatted.metadata) };
}

describe("loadLora() and saveLora()", () => {
  test("a LoRA saved in any format and loaded into the same model gives the same outputs", async () => {
    const x = seededTensor([1, 3, 4, 4], 1);
    for (const format of LORA_FORMATS) {
      const { source, adapter: saved, formatted, bytes } = await savedLora(format, 10, 6);
      const expected = await run(source, x);
      saved.remove();
      const target = source;
      const { adapter, report } = loadLora(target, parseSafetensors(bytes).tensors, {
        strict: true,
        peftConfig: formatted.adapterConfig ?? undefined,
      });
      assert.deepEqual(report.unmatched, [], format);
      assert.equal(report.matchedModules, 7, format);
      assert.deepEqual(report.formats, [format]);
      assert.ok(
        adapter.parameters().every((p) => !p.requiresGrad),
        "loaded LoRAs are not trainable unless asked",
      );
      assertClose(await run(target, x), expected, TOLERANCE, format);
      adapter.remove();
    }
    x.dispose();
  });

  test("a strict load throws before attaching anything; a lenient one reports; a load that matches nothing always throws", async () => {
    const { formatted } = await savedLora("diffusers", 20, 3);
    const tensors = new Map(formatted.tensors);
    tensors.set("unet.blocks.7.to_q.lora.down.weight", { dtype: "F32", shape: [3, 8], data: new Float32Array(24) });
    const model = new ToyModel();
    assert.throws(
      () => loadLora(model, tensors, { strict: true }),
      (error: unknown) => {
        assert.ok(error instanceof LoraLoadError);
        assert.match(
          error.message,
          /Cannot load LoRA strictly: 14 of 15 tensors matched 7 modules; 1 unmatched \(1 unknown module\): "unet.blocks.7.to_q.lora.down.weight"/,
        );
        return true;
      },
    );
    assert.deepEqual(loraAdaptersOf(model), []);
    const { adapter, report } = loadLora(model, tensors);
    assert.deepEqual(
      report.unmatched.map((u) => u.key),
      ["unet.blocks.7.to_q.lora.down.weight"],
    );
    adapter.remove();
    assert.throws(
      () => loadLora(model, formatted.tensors, { component: "text_encoder" }),
      /Cannot load LoRA: nothing matched: 0 of 14 tensors matched 0 modules; 14 unmatched \(14 unknown component\)/,
    );
  });

  test("a LoRA made for another architecture is refused before anything is attached, unless its foreign keys are allowed", async () => {
    const { formatted } = await savedLora("kohya", 70, 3);
    const model = new ToyModel();
    // SDXL's cross-attention keys: to_k reads 2048-wide text features where this model's reads 8
    const sdxl = new Map(formatted.tensors);
    sdxl.set("lora_unet_blocks_0_to_k.lora_down.weight", { dtype: "F32", shape: [3, 2048], data: new Float32Array(3 * 2048) });
    sdxl.set("lora_unet_blocks_0_to_k.lora_up.weight", { dtype: "F32", shape: [8, 3], data: new Float32Array(24) });
    for (const tensors of [
      sdxl,
      new Map([
        ...formatted.tensors,
        ["lora_te2_blocks_0_to_q.lora_down.weight", { dtype: "F32", shape: [3, 8], data: new Float32Array(24) }],
      ]),
    ]) {
      const models = { unet: model, text_encoder: new ToyModel() };
      assert.throws(
        () => loadLora(models, tensors),
        (error: unknown) => {
          assert.ok(error instanceof LoraLoadError);
          assert.match(error.message, /^Cannot load a LoRA made for another architecture: /);
          assert.ok(error.report.unmatched.some((u) => u.reason === "shape mismatch" || u.reason === "another architecture"));
          return true;
        },
      );
      assert.deepEqual(loraAdaptersOf(model), []);
    }
    const { adapter, report } = loadLora(model, sdxl, { allowForeignKeys: true });
    assert.equal(report.matchedModules, 6);
    assert.deepEqual(
      report.unmatched.map((u) => u.reason),
      ["shape mismatch", "shape mismatch", "shape mismatch"],
      "down, up and alpha of to_k",
    );
    adapter.remove();
  });

  test("trainable loads take gradients, and per-component weights reach the layers", async () => {
    const { formatted } = await savedLora("kohya", 30, 3);
    const model = new ToyModel();
    const { adapter } = loadLora(model, formatted.tensors, { trainable: true, weight: 0.5, weights: { unet: 0.25 } });
    assert.ok(adapter.parameters().every((p) => p.requiresGrad));
    assert.equal(adapter.activeWeight("unet"), 0.25);
    assert.equal(adapter.activeWeight("text_encoder"), 0.5);
    adapter.remove();
  });
});

describe("applyLoras()", () => {
  test("applies several weighted LoRAs for a while and remove() restores the model", async () => {
    const x = seededTensor([1, 3, 4, 4], 2);
    const model = new ToyModel();
    const base = await run(model, x);
    const first = await savedLora("diffusers", 40, 3);
    const second = await savedLora("kohya", 50, 3);
    const applied = await applyLoras(model, [
      { name: "first", tensors: first.formatted.tensors, weight: 0.5 },
      { name: "second", tensors: second.formatted.tensors, weight: -1 },
    ]);
    assert.deepEqual(
      applied.adapters.map((a) => [a.name, a.weight]),
      [
        ["first", 0.5],
        ["second", -1],
      ],
    );
    assert.deepEqual([...applied.reports.keys()], ["first", "second"]);
    const stacked = await run(model, x);
    assert.notDeepEqual(stacked, base);
    applied.remove();
    assert.deepEqual(await run(model, x), base, "unmerged LoRAs leave the base weights untouched");
    const merged = await applyLoras(
      model,
      [
        { name: "first", tensors: first.formatted.tensors, weight: 0.5 },
        { name: "second", tensors: second.formatted.tensors, weight: -1 },
      ],
      { merge: true },
    );
    assertClose(await run(model, x), stacked, TOLERANCE);
    merged.remove();
    assertClose(await run(model, x), base, TOLERANCE);
    x.dispose();
  });

  test("is all or nothing: when one LoRA fails the ones before it are removed", async () => {
    const model = new ToyModel();
    const good = await savedLora("diffusers", 60, 3);
    await assert.rejects(
      applyLoras(model, [
        { name: "good", tensors: good.formatted.tensors },
        { name: "bad", tensors: { "unet.nowhere.lora.down.weight": { shape: [1, 1], data: new Float32Array(1) } } },
      ]),
      /Cannot load LoRA: nothing matched/,
    );
    assert.deepEqual(loraAdaptersOf(model), []);
    await assert.rejects(
      applyLoras(model, [
        { name: "x", tensors: {} },
        { name: "x", tensors: {} },
      ]),
      /the name "x" appears twice/,
    );
  });
});
