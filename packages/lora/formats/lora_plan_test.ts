import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Device, Module } from "@spo/wgpu-tensor";
import type { LoraComponent } from "./components.ts";
import { testDevice } from "@spo/wgpu-tensor/testing";
import { oracleUNet } from "../test/_tiny_unet.ts";
import { ToyModel } from "../test/_toy_model.ts";
import { LayerTable } from "./layer_table.ts";
import { type LoraEntry, planLora } from "./lora_plan.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

const entry = (shape: number[], values?: number[]): LoraEntry => ({ shape, values: values ? Float32Array.from(values) : undefined });

function toyTable(): LayerTable {
  return LayerTable.fromModels(new Map<LoraComponent, Module>([["unet", new ToyModel(3, 8)]]));
}

describe("LayerTable", () => {
  test("kohya names resolve through the model's real module names, where replacing '_' by '.' would fail", () => {
    const unet = oracleUNet({ init: "meta" });
    const table = LayerTable.fromModels(new Map([["unet", unet]]));
    const cases: Record<string, string> = {
      down_blocks_0_attentions_1_transformer_blocks_0_attn2_to_out_0: "down_blocks.0.attentions.1.transformer_blocks.0.attn2.to_out.0",
      up_blocks_1_attentions_2_transformer_blocks_0_ff_net_0_proj: "up_blocks.1.attentions.2.transformer_blocks.0.ff.net.0.proj",
      mid_block_attentions_0_proj_in: "mid_block.attentions.0.proj_in",
      down_blocks_0_resnets_1_time_emb_proj: "down_blocks.0.resnets.1.time_emb_proj",
      conv_in: "conv_in",
    };
    for (const [flat, path] of Object.entries(cases)) {
      assert.equal(table.resolveKohya("unet", flat), path);
      assert.notEqual(flat.replaceAll("_", "."), path);
    }
    assert.equal(table.resolveKohya("unet", "down_blocks_0_attentions_0_norm"), undefined, "GroupNorm is not adaptable");
    assert.equal(table.resolveKohya("text_encoder", "conv_in"), undefined);
  });

  test("a diffusers UNet's table also resolves the original LDM names A1111 and older kohya files use", () => {
    const table = LayerTable.fromModels(new Map([["unet", oracleUNet({ init: "meta" })]]));
    assert.equal(
      table.resolveKohya("unet", "input_blocks_1_1_transformer_blocks_0_attn1_to_q"),
      "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q",
    );
    assert.equal(table.resolveKohya("unet", "middle_block_1_proj_out"), "mid_block.attentions.0.proj_out");
    assert.equal(
      table.resolveKohya("unet", "output_blocks_3_1_transformer_blocks_0_attn2_to_k"),
      "up_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k",
    );
    assert.equal(table.resolveKohya("unet", "input_blocks_1_0_in_layers_2"), "down_blocks.0.resnets.0.conv1");
  });

  test("a checkpoint's weight names make a table of their own (rank-2 and rank-4 weights only)", () => {
    const table = LayerTable.fromWeightShapes("unet", [
      ["a.to_q.weight", [8, 4]],
      ["a.norm.weight", [4]],
      ["a.conv.weight", [8, 4, 3, 3]],
      ["a.conv.bias", [8]],
    ]);
    assert.deepEqual(
      table.layers("unet").map((l) => [l.path, l.kind]),
      [
        ["a.to_q", "linear"],
        ["a.conv", "conv"],
      ],
    );
    assert.equal(table.resolveKohya("unet", "a_to_q"), "a.to_q");
  });
});

describe("planLora()", () => {
  test("every key ends up matched or unmatched with its reason", () => {
    const entries = new Map<string, LoraEntry>([
      ["unet.blocks.0.to_q.lora.down.weight", entry([2, 8])],
      ["unet.blocks.0.to_q.lora.up.weight", entry([8, 2])],
      ["lora_unet_blocks_1_to_out_0.lora_down.weight", entry([3, 8])],
      ["lora_unet_blocks_1_to_out_0.lora_up.weight", entry([8, 3])],
      ["lora_unet_blocks_1_to_out_0.alpha", entry([], [1.5])],
      ["unet.blocks.0.to_v.lora.down.weight", entry([2, 8])],
      ["unet.blocks.0.to_v.lora.up.weight", entry([8, 2])],
      ["unet.blocks.0.to_k.lora.down.weight", entry([2, 7])],
      ["unet.blocks.0.to_k.lora.up.weight", entry([8, 2])],
      ["unet.blocks.1.to_q.lora.down.weight", entry([2, 8])],
      ["unet.blocks.1.to_k.lora.down.weight", entry([2, 8])],
      ["unet.blocks.1.to_k.lora.up.weight", entry([8, 3])],
      ["unet.blocks.0.to_out.0.alpha", entry([], [4])],
      ["unet.blocks.0.to_q.lora_A.weight", entry([2, 8])],
      ["text_encoder.text_model.encoder.layers.0.mlp.fc1.lora.down.weight", entry([2, 8])],
      ["lora_unet_blocks_0_to_q.hada_w1_a", entry([2, 8])],
      ["blocks.0.to_q.weight", entry([8, 8])],
    ]);
    const { modules, report } = planLora(entries, toyTable());
    assert.deepEqual(
      modules.map((m) => [m.path, m.rank, m.alpha]),
      [
        ["blocks.0.to_q", 2, null],
        ["blocks.1.to_out.0", 3, 1.5],
      ],
    );
    assert.equal(report.matchedModules, 2);
    assert.equal(report.matchedTensors, 5);
    assert.equal(report.tensorCount, entries.size);
    assert.equal(report.parameterCount, 2 * 16 + 3 * 16);
    assert.deepEqual(report.formats.sort(), ["diffusers", "diffusers-peft", "kohya"]);
    const reasons = Object.fromEntries(report.unmatched.map((u) => [u.key, u.reason]));
    assert.deepEqual(reasons, {
      "unet.blocks.0.to_v.lora.down.weight": "unknown module",
      "unet.blocks.0.to_v.lora.up.weight": "unknown module",
      "unet.blocks.0.to_k.lora.down.weight": "shape mismatch",
      "unet.blocks.0.to_k.lora.up.weight": "shape mismatch",
      "unet.blocks.1.to_q.lora.down.weight": "rank pairing",
      "unet.blocks.1.to_k.lora.down.weight": "rank pairing",
      "unet.blocks.1.to_k.lora.up.weight": "rank pairing",
      "unet.blocks.0.to_out.0.alpha": "rank pairing",
      "unet.blocks.0.to_q.lora_A.weight": "duplicate",
      "text_encoder.text_model.encoder.layers.0.mlp.fc1.lora.down.weight": "unknown component",
      "lora_unet_blocks_0_to_q.hada_w1_a": "unsupported",
      "blocks.0.to_q.weight": "not a LoRA key",
    });
    const detail = (key: string) => report.unmatched.find((u) => u.key === key)!.detail;
    assert.equal(
      detail("unet.blocks.0.to_k.lora.down.weight"),
      "unet.blocks.0.to_k: expected down [2, 8] and up [8, 2] for Linear [8, 8], got [2, 7] and [8, 2]",
    );
    assert.equal(detail("unet.blocks.1.to_q.lora.down.weight"), "unet.blocks.1.to_q has a down tensor without its up");
    assert.equal(detail("unet.blocks.1.to_k.lora.up.weight"), "unet.blocks.1.to_k: rank of down [2, 8] and up [8, 3] differ (2 and 3)");
  });

  test("a Linear takes kohya's [r, in, 1, 1] and a 1×1 Conv2d takes 2-D matrices, stored in the layer's own layout", () => {
    const table = LayerTable.fromWeightShapes("unet", [
      ["lin.weight", [6, 4]],
      ["conv.weight", [6, 4, 1, 1]],
      ["conv3.weight", [6, 4, 3, 3]],
    ]);
    const entries = new Map<string, LoraEntry>([
      ["lora_unet_lin.lora_down.weight", entry([2, 4, 1, 1])],
      ["lora_unet_lin.lora_up.weight", entry([6, 2, 1, 1])],
      ["lora_unet_conv.lora_down.weight", entry([2, 4])],
      ["lora_unet_conv.lora_up.weight", entry([6, 2])],
      ["lora_unet_conv3.lora_down.weight", entry([2, 4])],
      ["lora_unet_conv3.lora_up.weight", entry([6, 2])],
    ]);
    const { modules, report } = planLora(entries, table);
    assert.deepEqual(
      modules.map((m) => [m.path, m.down.shape, m.up.shape]),
      [
        ["lin", [2, 4], [6, 2]],
        ["conv", [2, 4, 1, 1], [6, 2, 1, 1]],
      ],
    );
    assert.deepEqual(
      report.unmatched.map((u) => u.reason),
      ["shape mismatch", "shape mismatch"],
      "a 3×3 conv needs a 3×3 down",
    );
  });

  test("alphas come from the file (kohya's 0 meaning none), else from the training config", () => {
    const entries = new Map<string, LoraEntry>([
      ["lora_unet_blocks_0_to_q.lora_down.weight", entry([2, 8])],
      ["lora_unet_blocks_0_to_q.lora_up.weight", entry([8, 2])],
      ["lora_unet_blocks_0_to_q.alpha", entry([], [0])],
      ["unet.blocks.0.to_k.lora_A.weight", entry([4, 8])],
      ["unet.blocks.0.to_k.lora_B.weight", entry([8, 4])],
    ]);
    const { modules } = planLora(entries, toyTable(), { alphaOf: (_c, path, rank) => (path.endsWith("to_k") ? 2 * rank : null) });
    assert.deepEqual(
      modules.map((m) => [m.path, m.alpha]),
      [
        ["blocks.0.to_q", null],
        ["blocks.0.to_k", 8],
      ],
    );
  });

  test("SDXL's te1/te2 keys are another architecture on a one-text-encoder model and never displace the matching te keys", () => {
    const table = LayerTable.fromModels(
      new Map<LoraComponent, Module>([
        ["unet", new ToyModel(3, 8)],
        ["text_encoder", new ToyModel(3, 8)],
      ]),
    );
    // the foreign keys come first, as they sort before "lora_te_" and "lora_unet_" would not matter
    const entries = new Map<string, LoraEntry>([
      ["lora_te1_blocks_0_to_q.lora_down.weight", entry([2, 8])],
      ["lora_te1_blocks_0_to_q.lora_up.weight", entry([8, 2])],
      ["lora_te2_blocks_0_to_q.lora_down.weight", entry([2, 8])],
      ["lora_te_blocks_0_to_q.lora_down.weight", entry([2, 8])],
      ["lora_te_blocks_0_to_q.lora_up.weight", entry([8, 2])],
      ["lora_unet_blocks_0_to_q.lora_down.weight", entry([2, 8])],
      ["lora_unet_blocks_0_to_q.lora_up.weight", entry([8, 2])],
    ]);
    const { modules, report } = planLora(entries, table);
    assert.deepEqual(
      modules.map((m) => [m.component, m.path, m.down.key]),
      [
        ["text_encoder", "blocks.0.to_q", "lora_te_blocks_0_to_q.lora_down.weight"],
        ["unet", "blocks.0.to_q", "lora_unet_blocks_0_to_q.lora_down.weight"],
      ],
    );
    assert.deepEqual(
      report.unmatched.map((u) => [u.key, u.reason]),
      [
        ["lora_te1_blocks_0_to_q.lora_down.weight", "another architecture"],
        ["lora_te1_blocks_0_to_q.lora_up.weight", "another architecture"],
        ["lora_te2_blocks_0_to_q.lora_down.weight", "another architecture"],
      ],
    );
    assert.match(report.unmatched[0]!.detail, /names a text encoder of a model with two \(SDXL\); this model has one/);
  });

  test("with a table of two text encoders te1 is the first one, and a te key still wins a collision", () => {
    const table = LayerTable.fromModels(
      new Map<LoraComponent, Module>([
        ["text_encoder", new ToyModel(3, 8)],
        ["text_encoder_2", new ToyModel(3, 8)],
      ]),
    );
    const entries = new Map<string, LoraEntry>([
      ["lora_te1_blocks_0_to_q.lora_down.weight", entry([2, 8])],
      ["lora_te1_blocks_0_to_q.lora_up.weight", entry([8, 2])],
      ["lora_te1_blocks_1_to_q.lora_down.weight", entry([2, 8])],
      ["lora_te1_blocks_1_to_q.lora_up.weight", entry([8, 2])],
      ["lora_te_blocks_0_to_q.lora_down.weight", entry([2, 8])],
      ["lora_te_blocks_0_to_q.lora_up.weight", entry([8, 2])],
    ]);
    const { modules, report } = planLora(entries, table);
    assert.deepEqual(
      modules.map((m) => m.down.key),
      ["lora_te_blocks_0_to_q.lora_down.weight", "lora_te1_blocks_1_to_q.lora_down.weight"],
    );
    assert.deepEqual(
      report.unmatched.map((u) => [u.key, u.reason]),
      [
        ["lora_te1_blocks_0_to_q.lora_down.weight", "duplicate"],
        ["lora_te1_blocks_0_to_q.lora_up.weight", "duplicate"],
      ],
    );
  });

  test("without a table dotted paths are taken as they are and kohya names cannot be resolved", () => {
    const entries = new Map<string, LoraEntry>([
      ["unet.any.path.to_q.lora.down.weight", entry([2, 5])],
      ["unet.any.path.to_q.lora.up.weight", entry([3, 2])],
      ["lora_unet_any_path_to_q.lora_down.weight", entry([2, 5])],
    ]);
    const { modules, report } = planLora(entries, null);
    assert.deepEqual(
      modules.map((m) => m.path),
      ["any.path.to_q"],
    );
    assert.deepEqual(
      report.unmatched.map((u) => [u.reason, u.detail]),
      [["unknown module", 'kohya names need the model\'s module table to resolve "any_path_to_q"']],
    );
  });
});
