import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { assertClose, fcRuns } from "@spo/wgpu-tensor/testing";
import type { LoraComponent } from "./components.ts";
import { hostDeltaWeight, loraEntries, plannedWeights } from "./host_lora.ts";
import { LayerTable } from "./layer_table.ts";
import { LORA_FORMATS, type LoraFormat } from "./lora_keys.ts";
import { planLora } from "./lora_plan.ts";
import { parsePeftConfig, peftAlphaOf, targetModuleNames } from "./peft_config.ts";
import { formatLora, type LoraModuleWeights } from "./write_lora.ts";

const PATHS: Record<LoraComponent, string[]> = {
  unet: [
    "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q",
    "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_out.0",
    "mid_block.attentions.0.proj_in",
  ],
  text_encoder: ["text_model.encoder.layers.0.self_attn.q_proj", "text_model.encoder.layers.1.mlp.fc2"],
  text_encoder_2: [],
};

/** Random LoRA modules: linear or conv shapes, random ranks, alphas present or not. */
function arbModules(components: LoraComponent[]): fc.Arbitrary<LoraModuleWeights[]> {
  const candidates = components.flatMap((component) => PATHS[component].map((path) => ({ component, path })));
  const one = ({ component, path }: { component: LoraComponent; path: string }) =>
    fc
      .record({
        rank: fc.integer({ min: 1, max: 4 }),
        alpha: fc.option(fc.integer({ min: 1, max: 8 })),
        isConv: fc.boolean(),
        seed: fc.integer(),
      })
      .map(({ rank, alpha, isConv, seed }) => {
        const [inFeatures, out] = [3, 5];
        const downShape = isConv && component === "unet" ? [rank, inFeatures, 3, 3] : [rank, inFeatures];
        const upShape = isConv && component === "unet" ? [out, rank, 1, 1] : [out, rank];
        const values = (n: number, s: number) => Float32Array.from({ length: n }, (_, i) => Math.fround(Math.sin(s + i * 1.7) * 0.9));
        return {
          component,
          path,
          rank,
          alpha,
          down: {
            shape: downShape,
            data: values(
              downShape.reduce((a, b) => a * b, 1),
              seed,
            ),
          },
          up: {
            shape: upShape,
            data: values(
              upShape.reduce((a, b) => a * b, 1),
              seed + 1,
            ),
          },
        };
      });
  return fc.subarray(candidates, { minLength: 1 }).chain((chosen) => fc.tuple(...chosen.map(one)));
}

/** Reads formatted tensors back (kohya names through a table of the paths) and returns host weights. */
function readBack(modules: LoraModuleWeights[], format: LoraFormat): LoraModuleWeights[] {
  const { tensors, adapterConfig } = formatLora(modules, format);
  const table = new LayerTable();
  for (const component of ["unet", "text_encoder"] as const) table.merge(LayerTable.fromNames(component, PATHS[component]));
  const component = modules[0].component;
  const planned = planLora(loraEntries(tensors), table, {
    defaultComponent: component,
    alphaOf: adapterConfig ? peftAlphaOf(adapterConfig) : undefined,
  });
  assert.deepEqual(planned.report.unmatched, []);
  assert.equal(planned.report.matchedTensors, tensors.size);
  return plannedWeights(planned.modules);
}

describe("formatLora()", () => {
  test("every format reads back to the same modules and the same ΔW (alpha folded into up where the format has none)", () => {
    fc.assert(
      fc.property(arbModules(["unet", "text_encoder"]), fc.constantFrom(...LORA_FORMATS), (modules, format) => {
        const input = format === "peft" ? modules.filter((m) => m.component === modules[0].component) : modules;
        const back = readBack(input, format);
        assert.deepEqual(back.map((m) => `${m.component}.${m.path}`).sort(), input.map((m) => `${m.component}.${m.path}`).sort());
        for (const original of input) {
          const read = back.find((m) => m.component === original.component && m.path === original.path)!;
          assert.deepEqual(read.down.data, original.down.data, "down is copied exactly");
          // folding alpha/rank into up rounds once per element
          assertClose(hostDeltaWeight(read, 1), hostDeltaWeight(original, 1), { atol: 1e-6, rtol: 2 ** -22 }, `${format} ${original.path}`);
        }
      }),
      { numRuns: fcRuns(40) },
    );
  });

  test("the diffusers format is SPO's layout: unet.<path>.lora.down/up.weight, no alphas, and lora_linear_layer for the text encoder", () => {
    const [unet, te] = [PATHS.unet[0], PATHS.text_encoder[0]];
    const module = (component: LoraComponent, path: string): LoraModuleWeights => ({
      component,
      path,
      rank: 1,
      alpha: null,
      down: { shape: [1, 2], data: Float32Array.of(1, 2) },
      up: { shape: [2, 1], data: Float32Array.of(3, 4) },
    });
    const { tensors, metadata } = formatLora([module("unet", unet), module("text_encoder", te)], "diffusers");
    assert.deepEqual(
      [...tensors.keys()],
      [
        `unet.${unet}.lora.down.weight`,
        `unet.${unet}.lora.up.weight`,
        `text_encoder.${te}.lora_linear_layer.down.weight`,
        `text_encoder.${te}.lora_linear_layer.up.weight`,
      ],
    );
    assert.deepEqual(metadata, { format: "pt" });
    const kohya = formatLora([{ ...module("unet", unet), alpha: 0.5 }], "kohya");
    const flat = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q";
    assert.deepEqual([...kohya.tensors.keys()], [`${flat}.lora_down.weight`, `${flat}.lora_up.weight`, `${flat}.alpha`]);
    assert.deepEqual(kohya.tensors.get(`${flat}.alpha`), { dtype: "F32", shape: [], data: Float32Array.of(0.5) });
    assert.deepEqual(kohya.metadata, { ss_network_module: "networks.lora", ss_network_dim: "1", ss_network_alpha: "0.5" });
  });

  test("PEFT writes the common r and lora_alpha with patterns for the modules that differ, and refuses two components", () => {
    const module = (path: string, rank: number, alpha: number | null): LoraModuleWeights => ({
      component: "unet",
      path,
      rank,
      alpha,
      down: { shape: [rank, 2], data: new Float32Array(rank * 2) },
      up: { shape: [2, rank], data: new Float32Array(rank * 2) },
    });
    const { tensors, adapterConfig } = formatLora([module("a.to_q", 4, 4), module("b.to_q", 4, 4), module("a.to_out.0", 8, 2)], "peft");
    assert.deepEqual([...tensors.keys()].slice(0, 2), ["base_model.model.a.to_q.lora_A.weight", "base_model.model.a.to_q.lora_B.weight"]);
    assert.equal(adapterConfig!.r, 4);
    assert.equal(adapterConfig!.lora_alpha, 4);
    assert.deepEqual(adapterConfig!.rank_pattern, { "a.to_out.0": 8 });
    assert.deepEqual(adapterConfig!.alpha_pattern, { "a.to_out.0": 2 });
    assert.deepEqual(adapterConfig!.target_modules, ["to_out.0", "to_q"]);
    assert.equal(peftAlphaOf(adapterConfig!)("unet", "a.to_out.0", 8), 2);
    assert.equal(peftAlphaOf(adapterConfig!)("unet", "b.to_q", 4), 4);
    assert.throws(
      () => formatLora([module("a.to_q", 1, null), { ...module("t.q_proj", 1, null), component: "text_encoder" }], "peft"),
      /Cannot write a PEFT LoRA for unet and text_encoder/,
    );
  });
});

describe("PEFT adapter configs", () => {
  test("rsLoRA's scale lora_alpha/√r is kept as the equivalent alpha", () => {
    const alphaOf = peftAlphaOf(parsePeftConfig({ peft_type: "LORA", r: 16, lora_alpha: 8, use_rslora: true }));
    assert.equal(alphaOf("unet", "x.to_q", 16) / 16, 8 / 4);
  });

  test("configs that are not plain LoRA are refused by name", () => {
    assert.throws(() => parsePeftConfig({ peft_type: "LOHA", r: 4, lora_alpha: 4 }), /peft_type is "LOHA", only "LORA" is supported/);
    assert.throws(() => parsePeftConfig({ r: 4, lora_alpha: 4, use_dora: true }), /DoRA adapters \(use_dora\) are not supported/);
    assert.throws(() => parsePeftConfig({ r: "4", lora_alpha: 4 }), /r and lora_alpha must be numbers, got "4" and 4/);
  });

  test("target module names are the short names unless they would match other layers", () => {
    const chosen = ["x.attn1.to_q", "x.attn1.to_out.0"];
    assert.deepEqual(targetModuleNames(chosen), ["to_out.0", "to_q"]);
    assert.deepEqual(targetModuleNames(chosen, [...chosen, "x.attn2.to_k"]), ["to_out.0", "to_q"]);
    assert.deepEqual(targetModuleNames(chosen, [...chosen, "x.attn2.to_q"]), ["x.attn1.to_out.0", "x.attn1.to_q"]);
  });
});
