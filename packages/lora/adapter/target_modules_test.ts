import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Device } from "@spo/wgpu-tensor";
import { testDevice } from "@spo/wgpu-tensor/testing";
import { ToyModel } from "../test/_toy_model.ts";
import { injectLora } from "./inject_lora.ts";
import { findTargetLayers, matchesTarget } from "./target_modules.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

describe("target modules", () => {
  test("a name matches a module whose full name equals it or ends with '.' + it (PEFT)", () => {
    const name = "down_blocks.0.attentions.1.transformer_blocks.0.attn2.to_out.0";
    assert.ok(matchesTarget(name, ["to_out.0"]));
    assert.ok(matchesTarget(name, ["attn2.to_out.0"]));
    assert.ok(matchesTarget(name, [name]));
    assert.ok(!matchesTarget(name, ["out.0"]), "a suffix must start at a name boundary");
    assert.ok(!matchesTarget(name, ["to_out"]), "the parent of a match is not a match");
    assert.ok(!matchesTarget(`${name}.x`, ["to_out.0"]));
  });

  test("a RegExp must match the whole module name, like PEFT's re.fullmatch", () => {
    assert.ok(matchesTarget("mid_block.attentions.0.proj_in", /.*proj_(in|out)/));
    assert.ok(!matchesTarget("mid_block.attentions.0.proj_in", /proj_in/));
    assert.ok(matchesTarget("a.to_q", /.*\.to_[qkv]/g), "a global flag does not make matching stateful");
    assert.ok(matchesTarget("a.to_k", /.*\.to_[qkv]/g));
  });

  test("findTargetLayers() returns the matching Linear and Conv2d layers by path", () => {
    const model = new ToyModel();
    const found = findTargetLayers(model, ["to_q", "to_out.0", "proj_in"]);
    assert.deepEqual([...found.keys()], ["proj_in", "blocks.0.to_q", "blocks.0.to_out.0", "blocks.1.to_q", "blocks.1.to_out.0"]);
  });

  test("targets that match nothing, or match a module that is not a Linear or Conv2d, are errors", () => {
    const model = new ToyModel();
    assert.throws(() => findTargetLayers(model, ["to_v"]), /Cannot add a LoRA: target modules \["to_v"\] match no module of the model/);
    assert.throws(
      () => findTargetLayers(model, ["blocks.0"]),
      /Cannot add a LoRA to "blocks.0": it is a ToyBlock, only Linear and Conv2d layers can be adapted/,
    );
  });

  test("injectLora() freezes the base parameters and trains only A and B, without renaming the base's parameters", () => {
    const model = new ToyModel();
    const names = [...model.namedParameters()].map(([name]) => name);
    const adapter = injectLora(model, { rank: 2, targetModules: ["to_q", "to_k"] });
    assert.deepEqual(
      [...model.namedParameters()].map(([name]) => name),
      names,
    );
    assert.ok(model.parameters().every((p) => !p.requiresGrad));
    assert.deepEqual([...adapter.namedParameters()].map(([name]) => name).slice(0, 4), [
      "unet.blocks.0.to_q.lora_A.weight",
      "unet.blocks.0.to_q.lora_B.weight",
      "unet.blocks.0.to_k.lora_A.weight",
      "unet.blocks.0.to_k.lora_B.weight",
    ]);
    assert.ok(adapter.parameters().every((p) => p.requiresGrad));
    assert.equal(adapter.parameterCount(), 4 * (2 * 8 + 8 * 2));
    adapter.remove();
  });
});
