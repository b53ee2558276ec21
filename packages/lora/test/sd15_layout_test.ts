// SPO's published SD1.5 LoRA layout on the real SD1.5 UNet, built shape-only: rank 4 on
// to_q/to_k/to_v/to_out.0 of the 16 transformer blocks' two attentions.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { diffusersToLdmUNetKey, SD15_UNET_CONFIG, UNet2DConditionModel } from "@spo/diffusion-unet";
import type { Device } from "@spo/wgpu-tensor";
import { testDevice } from "@spo/wgpu-tensor/testing";
import { injectLora } from "../adapter/inject_lora.ts";
import type { LoraAdapter } from "../adapter/lora_adapter.ts";
import { describeLoraReport } from "../formats/load_report.ts";
import { LORA_FORMATS } from "../formats/lora_keys.ts";
import { checkLoraLayout } from "../loading/load_lora.ts";
import { loraLayout } from "../loading/save_lora.ts";
import { oracleUNet } from "./_tiny_unet.ts";

let device: Device;
let unet: UNet2DConditionModel;
let adapter: LoraAdapter;
before(async () => {
  device = await testDevice();
  unet = UNet2DConditionModel.fromConfig(SD15_UNET_CONFIG, { init: "meta" });
  adapter = injectLora(unet, { name: "spo", rank: 4, alpha: 4, targetModules: ["to_q", "to_k", "to_v", "to_out.0"], init: "meta" });
});
after(() => device.destroy());

describe("SPO's SD1.5 LoRA layout", () => {
  test("has 128 adapted linears, 256 tensors and 797,184 parameters, and allocates nothing", () => {
    assert.equal(adapter.layers().length, 128);
    assert.equal(adapter.parameters().length, 256);
    assert.equal(adapter.parameterCount(), 797_184);
    assert.ok(adapter.parameters().every((p) => p.isMeta));
  });

  test("is saved under the keys and shapes of SPO's published diffusers file", () => {
    const layout = loraLayout(adapter, "diffusers");
    assert.equal(layout.size, 256);
    const block = "unet.down_blocks.0.attentions.0.transformer_blocks.0";
    assert.deepEqual(layout.get(`${block}.attn1.to_q.lora.down.weight`), [4, 320]);
    assert.deepEqual(layout.get(`${block}.attn1.to_q.lora.up.weight`), [320, 4]);
    assert.deepEqual(layout.get(`${block}.attn2.to_k.lora.down.weight`), [4, 768]);
    assert.deepEqual(layout.get(`${block}.attn2.to_out.0.lora.up.weight`), [320, 4]);
    assert.deepEqual(layout.get("unet.mid_block.attentions.0.transformer_blocks.0.attn2.to_v.lora.down.weight"), [4, 768]);
    assert.deepEqual(layout.get("unet.up_blocks.3.attentions.2.transformer_blocks.0.attn1.to_out.0.lora.down.weight"), [4, 320]);
    assert.ok(
      [...layout.keys()].every((key) =>
        /^unet\.(down_blocks\.[0-2]|mid_block|up_blocks\.[1-3])\.attentions\.\d\.transformer_blocks\.0\.attn[12]\.to_(q|k|v|out\.0)\.lora\.(down|up)\.weight$/.test(
          key,
        ),
      ),
    );
  });

  test("every key of every format matches the UNet when read back", () => {
    for (const format of LORA_FORMATS) {
      const layout = loraLayout(adapter, format);
      const report = checkLoraLayout(unet, layout);
      assert.deepEqual(report.unmatched, [], format);
      assert.equal(report.matchedTensors, layout.size, format);
      assert.equal(report.matchedModules, 128, format);
      assert.equal(report.parameterCount, 797_184, format);
      assert.deepEqual(report.formats, [format]);
    }
    const report = checkLoraLayout(unet, loraLayout(adapter, "diffusers"));
    assert.equal(describeLoraReport(report), "format diffusers: 256 of 256 tensors matched 128 modules (unet 128), 797184 parameters");
    assert.equal(loraLayout(adapter, "kohya").size, 384, "kohya adds one alpha per module");
  });

  test("kohya files with the original LDM module names match the same layers", () => {
    const ldmLayout = new Map<string, number[]>();
    for (const [key, shape] of loraLayout(adapter, "diffusers")) {
      const [, path, role] = /^unet\.(.+)\.lora\.(down|up)\.weight$/.exec(key)!;
      const ldm = diffusersToLdmUNetKey(`${path}.weight`, unet.config).slice(0, -".weight".length);
      ldmLayout.set(`lora_unet_${ldm.replaceAll(".", "_")}.lora_${role}.weight`, shape);
    }
    assert.ok(ldmLayout.has("lora_unet_input_blocks_1_1_transformer_blocks_0_attn1_to_q.lora_down.weight"));
    const report = checkLoraLayout(unet, ldmLayout);
    assert.deepEqual(report.unmatched, []);
    assert.equal(report.matchedModules, 128);
  });

  test("on a model of another shape the report says why each key does not fit instead of changing nothing silently", () => {
    const small = oracleUNet({ init: "meta" });
    const report = checkLoraLayout(small, loraLayout(adapter, "diffusers"));
    assert.equal(report.matchedModules, 0);
    const reasons = new Set(report.unmatched.map((u) => u.reason));
    assert.deepEqual([...reasons].sort(), ["shape mismatch", "unknown module"]);
    const mismatch = report.unmatched.find(
      (u) => u.key === "unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.lora.down.weight",
    )!;
    assert.equal(
      mismatch.detail,
      "unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k: expected down [4, 32] and up [32, 4] for Linear [32, 32], got [4, 768] and [320, 4]",
    );
  });
});
