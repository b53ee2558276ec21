import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ldmKeyMap, LDM_UNET_PREFIX, unetConfigFromDiffusers } from "@spo/diffusion-unet";
import { parseSafetensors, type TensorInput, toFloat32Array } from "@spo/safetensors";
import { writeSafetensorsFile } from "@spo/safetensors/node";
import { type Device, f16BitsToF32, f32ToF16Bits } from "@spo/wgpu-tensor";
import { assertClose, testDevice } from "@spo/wgpu-tensor/testing";
import { loadLora } from "../loading/load_lora.ts";
import { ORACLE_UNET_CONFIG, oracleUNet } from "../test/_tiny_unet.ts";
import { convertLora } from "./convert_lora_node.ts";
import { applyLoraFiles, readLoraFile } from "./lora_files_node.ts";
import { runLoraCommand } from "./lora_command_node.ts";
import { mergeLoraIntoCheckpoint } from "./merge_checkpoint_node.ts";

const FIXTURES = new URL("../test/fixtures/oracle/", import.meta.url).pathname;
const DIFFUSERS = join(FIXTURES, "unet_lora.lora.safetensors");
const KOHYA = join(FIXTURES, "unet_lora.kohya.safetensors");
const MERGED_PATH = "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q";

let device: Device;
let scratch: string;
before(async () => {
  device = await testDevice();
  scratch = mkdtempSync(join(tmpdir(), "lora-files-"));
});
after(() => {
  rmSync(scratch, { recursive: true, force: true });
  device.destroy();
});

/** ΔW of every adapted layer, by path, from a LoRA file loaded onto the oracle UNet (shape-only base). */
async function deltas(file: string): Promise<Map<string, Float32Array>> {
  const { tensors, peftConfig } = await readLoraFile(file);
  const { adapter, report } = loadLora(oracleUNet({ init: "meta" }), tensors, { strict: true, peftConfig: peftConfig ?? undefined });
  assert.equal(report.matchedModules, 48);
  const result = new Map<string, Float32Array>();
  for (const layer of adapter.layers()) {
    const delta = layer.deltaWeight(1);
    result.set(layer.path, Float32Array.from(await delta.toArray()));
    delta.dispose();
  }
  adapter.remove();
  return result;
}

/** The oracle UNet's weights under their diffusers names (the case file stores them as `weights.<name>`). */
function oracleWeights(): Map<string, TensorInput & { shape: number[] }> {
  const { tensors } = parseSafetensors(readFileSync(join(FIXTURES, "unet.safetensors")));
  return new Map([...tensors].filter(([n]) => n.startsWith("weights.")).map(([n, t]) => [n.slice("weights.".length), t]));
}

async function expectedMerged(): Promise<Float32Array> {
  const { tensors } = parseSafetensors(readFileSync(join(FIXTURES, "unet_lora.safetensors")));
  return toFloat32Array(tensors.get(`merged.${MERGED_PATH}.weight`)!);
}

describe("convertLora()", () => {
  test("diffusers → kohya → diffusers-peft → PEFT → diffusers keeps every module and its ΔW", async () => {
    const original = await deltas(DIFFUSERS);
    const unet = oracleUNet({ init: "meta" });
    const kohya = join(scratch, "a_kohya.safetensors");
    const report = await convertLora(DIFFUSERS, kohya, { to: "kohya" });
    assert.equal(report.matchedTensors, 96);
    assert.ok(parseSafetensors(readFileSync(kohya)).tensors.has(`lora_unet_${MERGED_PATH.replaceAll(".", "_")}.alpha`));
    const diffusersPeft = join(scratch, "b_diffusers_peft.safetensors");
    assert.equal((await convertLora(kohya, diffusersPeft, { to: "diffusers-peft", models: unet })).matchedTensors, 144);
    const peftFolder = mkdtempSync(join(scratch, "peft-"));
    const peft = join(peftFolder, "adapter_model.safetensors");
    await convertLora(diffusersPeft, peft, { to: "peft" });
    const config = JSON.parse(readFileSync(join(peftFolder, "adapter_config.json"), "utf8"));
    assert.deepEqual([config.r, config.lora_alpha, config.target_modules], [4, 4, ["to_k", "to_out.0", "to_q", "to_v"]]);
    const back = join(scratch, "c_diffusers.safetensors");
    await convertLora(peft, back, { to: "diffusers" });
    for (const file of [kohya, diffusersPeft, peft, back]) {
      const converted = await deltas(file);
      assert.deepEqual([...converted.keys()].sort(), [...original.keys()].sort());
      for (const [path, delta] of original) assertClose(converted.get(path)!, delta, { atol: 1e-7, rtol: 1e-6 }, `${file} ${path}`);
    }
  });

  test("the oracle's kohya file gives the same ΔW as its diffusers file", async () => {
    const [fromDiffusers, fromKohya] = [await deltas(DIFFUSERS), await deltas(KOHYA)];
    for (const [path, delta] of fromDiffusers) assertClose(fromKohya.get(path)!, delta, { atol: 1e-7, rtol: 1e-6 }, path);
  });

  test("kohya files resolve against Stable Diffusion 1.5's module table when no model is given", async () => {
    const input = join(scratch, "sd15_kohya.safetensors");
    const rank = 2;
    const matrix = (shape: number[]): TensorInput => ({ dtype: "F32", shape, data: new Float32Array(shape[0] * shape[1]).fill(0.5) });
    await writeSafetensorsFile(input, {
      "lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_k.lora_down.weight": matrix([rank, 768]),
      "lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_k.lora_up.weight": matrix([1280, rank]),
      "lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_k.alpha": { dtype: "F32", shape: [], data: Float32Array.of(1) },
      "lora_te_text_model_encoder_layers_11_self_attn_out_proj.lora_down.weight": matrix([rank, 768]),
      "lora_te_text_model_encoder_layers_11_self_attn_out_proj.lora_up.weight": matrix([768, rank]),
    });
    const output = join(scratch, "sd15_diffusers.safetensors");
    await convertLora(input, output, { to: "diffusers" });
    const { tensors } = parseSafetensors(readFileSync(output));
    assert.deepEqual([...tensors.keys()].sort(), [
      "text_encoder.text_model.encoder.layers.11.self_attn.out_proj.lora_linear_layer.down.weight",
      "text_encoder.text_model.encoder.layers.11.self_attn.out_proj.lora_linear_layer.up.weight",
      "unet.mid_block.attentions.0.transformer_blocks.0.attn2.to_k.lora.down.weight",
      "unet.mid_block.attentions.0.transformer_blocks.0.attn2.to_k.lora.up.weight",
    ]);
    // alpha 1 over rank 2 is folded into up
    assert.equal(toFloat32Array(tensors.get("unet.mid_block.attentions.0.transformer_blocks.0.attn2.to_k.lora.up.weight")!)[0], 0.25);
    await assert.rejects(
      convertLora(input, output, { to: "diffusers", models: oracleUNet({ init: "meta" }) }),
      /Cannot convert .*: nothing matched/,
    );
  });
});

describe("mergeLoraIntoCheckpoint()", () => {
  test("merges into a diffusers UNet file: the adapted weights become W + ΔW, everything else is copied", async () => {
    const weights = oracleWeights();
    const checkpoint = join(scratch, "unet.safetensors");
    await writeSafetensorsFile(checkpoint, weights, { format: "pt" });
    const output = join(scratch, "unet_merged.safetensors");
    const [report] = await mergeLoraIntoCheckpoint(checkpoint, [{ file: KOHYA }], output);
    assert.equal(report.matchedModules, 48);
    assert.deepEqual(report.unmatched, []);
    const merged = parseSafetensors(readFileSync(output));
    assert.equal(merged.metadata.format, "pt");
    assertClose(toFloat32Array(merged.tensors.get(`${MERGED_PATH}.weight`)!), await expectedMerged(), { atol: 2e-6, rtol: 1e-5 });
    for (const name of ["conv_in.weight", `${MERGED_PATH.replace("to_q", "to_out.0")}.bias`, "mid_block.resnets.0.conv1.weight"]) {
      assert.deepEqual(merged.tensors.get(name)!.data, weights.get(name)!.data, name);
    }
    const twice = join(scratch, "unet_merged_twice.safetensors");
    await mergeLoraIntoCheckpoint(
      checkpoint,
      [
        { file: DIFFUSERS, weight: 0.5 },
        { file: KOHYA, weight: 0.5 },
      ],
      twice,
    );
    assertClose(toFloat32Array(parseSafetensors(readFileSync(twice)).tensors.get(`${MERGED_PATH}.weight`)!), await expectedMerged(), {
      atol: 2e-6,
      rtol: 1e-5,
    });
  });

  test("merges into an original single-file checkpoint under its LDM names, keeping F16 weights F16", async () => {
    const weights = oracleWeights();
    const map = ldmKeyMap(weights.keys(), unetConfigFromDiffusers(ORACLE_UNET_CONFIG));
    const single = new Map<string, TensorInput>();
    for (const [name, t] of weights) {
      const values = toFloat32Array(t as never);
      single.set(LDM_UNET_PREFIX + map.get(name)!, {
        dtype: "F16",
        shape: t.shape,
        data: Uint16Array.from(values, (v) => f32ToF16Bits(v)),
      });
    }
    single.set("cond_stage_model.transformer.text_model.final_layer_norm.weight", { dtype: "F16", shape: [2], data: Uint16Array.of(0, 0) });
    const checkpoint = join(scratch, "single.safetensors");
    await writeSafetensorsFile(checkpoint, single);
    const output = join(scratch, "single_merged.safetensors");
    const [report] = await mergeLoraIntoCheckpoint(checkpoint, [{ file: DIFFUSERS }], output, {
      unetConfig: ORACLE_UNET_CONFIG,
      strict: true,
    });
    assert.equal(report.matchedModules, 48);
    const ldmName = LDM_UNET_PREFIX + map.get(`${MERGED_PATH}.weight`)!;
    assert.equal(ldmName, "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight");
    const merged = parseSafetensors(readFileSync(output)).tensors.get(ldmName)!;
    assert.equal(merged.dtype, "F16");
    // the F16 base already differs from the f32 base by up to half an f16 ulp
    const expected = (await expectedMerged()).map((v) => f16BitsToF32(f32ToF16Bits(v)));
    assertClose(toFloat32Array(merged), expected, { atol: 1e-3, rtol: 2 ** -10 });
    assert.ok(existsSync(output));
  });
});

describe("applyLoraFiles()", () => {
  test("reads the files, applies them with their weights and reports each", async () => {
    const unet = oracleUNet({ init: "meta" });
    const applied = await applyLoraFiles(unet, [
      { name: "spo", file: DIFFUSERS, weight: 0.7 },
      { name: "kohya", file: KOHYA, weight: 0.3, strict: true },
    ]);
    assert.deepEqual(
      applied.adapters.map((a) => [a.name, a.weight]),
      [
        ["spo", 0.7],
        ["kohya", 0.3],
      ],
    );
    assert.deepEqual(
      [...applied.reports.values()].map((r) => [r.formats, r.matchedTensors]),
      [
        [["diffusers"], 96],
        [["kohya"], 144],
      ],
    );
    applied.remove();
  });
});

describe("runLoraCommand()", () => {
  test("spo lora convert and merge print the match reports; bad arguments and unmatched LoRAs give exit codes 2 and 1", async () => {
    const lines: string[] = [];
    const log = (line: string) => lines.push(line);
    const kohya = join(scratch, "cli_kohya.safetensors");
    assert.equal(await runLoraCommand(["convert", DIFFUSERS, kohya, "--to", "kohya"], log), 0);
    assert.deepEqual(lines.splice(0), ["format diffusers: 96 of 96 tensors matched 48 modules (unet 48), 14080 parameters"]);
    const checkpoint = join(scratch, "cli_unet.safetensors");
    await writeSafetensorsFile(checkpoint, oracleWeights());
    const merged = join(scratch, "cli_merged.safetensors");
    assert.equal(
      await runLoraCommand(["merge", checkpoint, merged, "--lora", `${DIFFUSERS}:0.5`, "--lora", `${KOHYA}:0.5`, "--strict"], log),
      0,
    );
    assert.deepEqual(lines.splice(0), [
      `${DIFFUSERS}: format diffusers: 96 of 96 tensors matched 48 modules (unet 48), 14080 parameters`,
      `${KOHYA}: format kohya: 144 of 144 tensors matched 48 modules (unet 48), 14080 parameters`,
    ]);
    assertClose(toFloat32Array(parseSafetensors(readFileSync(merged)).tensors.get(`${MERGED_PATH}.weight`)!), await expectedMerged(), {
      atol: 2e-6,
      rtol: 1e-5,
    });
    assert.equal(await runLoraCommand(["convert", DIFFUSERS, kohya, "--to", "a1111"], log), 2);
    assert.match(lines.splice(0)[0], /--to must be one of diffusers, diffusers-peft, peft, kohya, got "a1111"/);
    assert.equal(await runLoraCommand(["merge", checkpoint, merged], log), 2);
    assert.equal(await runLoraCommand(["rename", "a", "b"], log), 2);
    lines.splice(0);
    const elsewhere = join(scratch, "elsewhere.safetensors");
    await writeSafetensorsFile(elsewhere, {
      "lora_unet_nowhere.lora_down.weight": { dtype: "F32", shape: [1, 2], data: new Float32Array(2) },
      "lora_unet_nowhere.lora_up.weight": { dtype: "F32", shape: [2, 1], data: new Float32Array(2) },
    });
    assert.equal(await runLoraCommand(["merge", checkpoint, merged, "--lora", elsewhere], log), 1);
    assert.match(lines[0], /Cannot merge .*elsewhere.safetensors into .*cli_unet.safetensors: nothing matched/);
    assert.equal(
      lines[2],
      'unmatched lora_unet_nowhere.lora_down.weight: unknown module: the unet has no Linear or Conv2d named like "nowhere"',
    );
  });
});
