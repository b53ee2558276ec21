import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Device } from "@spo/wgpu-tensor";
import { testDevice } from "@spo/wgpu-tensor/testing";
import { diffusersToLdmUNetKey, ldmKeyMap } from "../loading/ldm_key_map.ts";
import { UnsupportedConfigError } from "../schedulers/scheduler_config.ts";
import { SD15_UNET_CONFIG, unetConfigFromDiffusers } from "./config.ts";
import { UNet2DConditionModel } from "./unet_2d_condition.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

/** Shapes from the SD1.5 parameter list (research notes §1.7), spot-checked across the tree. */
const SD15_SPOT_SHAPES: Record<string, number[]> = {
  "conv_in.weight": [320, 4, 3, 3],
  "time_embedding.linear_1.weight": [1280, 320],
  "time_embedding.linear_2.weight": [1280, 1280],
  "down_blocks.1.resnets.0.conv_shortcut.weight": [640, 320, 1, 1],
  "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight": [320, 768],
  "down_blocks.2.attentions.1.transformer_blocks.0.ff.net.0.proj.weight": [10240, 1280],
  "down_blocks.2.attentions.1.transformer_blocks.0.ff.net.2.weight": [1280, 5120],
  "down_blocks.0.downsamplers.0.conv.weight": [320, 320, 3, 3],
  "mid_block.attentions.0.proj_in.weight": [1280, 1280, 1, 1],
  "up_blocks.0.resnets.0.conv1.weight": [1280, 2560, 3, 3],
  "up_blocks.1.resnets.2.conv_shortcut.weight": [1280, 1920, 1, 1],
  "up_blocks.2.resnets.0.norm1.weight": [1920],
  "up_blocks.3.resnets.0.conv1.weight": [320, 960, 3, 3],
  "up_blocks.3.attentions.2.transformer_blocks.0.attn1.to_out.0.bias": [320],
  "up_blocks.2.upsamplers.0.conv.weight": [640, 640, 3, 3],
  "conv_out.weight": [4, 320, 3, 3],
};

describe("UNet2DConditionModel structure", () => {
  test("the SD1.5 configuration builds shape-only with 686 tensors and 859,520,964 parameters", () => {
    const before = device.memory().liveBytes;
    const unet = UNet2DConditionModel.fromConfig(SD15_UNET_CONFIG, { init: "meta" });
    const named = [...unet.namedParameters()];
    assert.equal(named.length, 686);
    assert.equal(unet.parameterCount(), 859_520_964);
    assert.equal(device.memory().liveBytes, before, "a shape-only model allocates nothing");
    const shapes = new Map(named.map(([name, t]) => [name, [...t.shape]]));
    for (const [name, shape] of Object.entries(SD15_SPOT_SHAPES)) assert.deepEqual(shapes.get(name), shape, name);
    const perBlock = (prefix: string) => named.filter(([n]) => n.startsWith(prefix)).reduce((s, [, t]) => s + t.size, 0);
    // per-block counts from the research notes' instantiation table
    assert.equal(perBlock("down_blocks.0."), 10_524_480);
    assert.equal(perBlock("down_blocks.2."), 139_992_320);
    assert.equal(perBlock("mid_block."), 97_038_080);
    assert.equal(perBlock("up_blocks.1."), 258_330_880);
    assert.equal(perBlock("up_blocks.3."), 18_810_560);
  });

  test("the single-file (LDM) name map is a bijection on the 686 SD1.5 tensors", () => {
    const config = unetConfigFromDiffusers(SD15_UNET_CONFIG);
    const unet = new UNet2DConditionModel(config, { init: "meta" });
    const names = [...unet.namedParameters()].map(([n]) => n);
    const map = ldmKeyMap(names, config);
    assert.equal(map.size, 686);
    assert.equal(new Set(map.values()).size, 686);
    const expected: Record<string, string> = {
      "time_embedding.linear_2.bias": "time_embed.2.bias",
      "conv_in.weight": "input_blocks.0.0.weight",
      "down_blocks.1.resnets.0.conv_shortcut.weight": "input_blocks.4.0.skip_connection.weight",
      "down_blocks.0.attentions.1.proj_in.weight": "input_blocks.2.1.proj_in.weight",
      "down_blocks.2.downsamplers.0.conv.weight": "input_blocks.9.0.op.weight",
      "down_blocks.3.resnets.1.norm2.weight": "input_blocks.11.0.out_layers.0.weight",
      "mid_block.resnets.1.time_emb_proj.weight": "middle_block.2.emb_layers.1.weight",
      "mid_block.attentions.0.transformer_blocks.0.attn1.to_q.weight": "middle_block.1.transformer_blocks.0.attn1.to_q.weight",
      "up_blocks.0.upsamplers.0.conv.weight": "output_blocks.2.1.conv.weight",
      "up_blocks.1.attentions.2.proj_out.weight": "output_blocks.5.1.proj_out.weight",
      "up_blocks.1.upsamplers.0.conv.bias": "output_blocks.5.2.conv.bias",
      "up_blocks.2.upsamplers.0.conv.weight": "output_blocks.8.2.conv.weight",
      "up_blocks.3.resnets.2.conv2.weight": "output_blocks.11.0.out_layers.3.weight",
      "conv_norm_out.bias": "out.0.bias",
      "conv_out.weight": "out.2.weight",
    };
    for (const [from, to] of Object.entries(expected)) assert.equal(map.get(from), to, from);
    unet.dispose();
  });

  test("unknown parameter names are rejected by the key map", () => {
    const config = unetConfigFromDiffusers(SD15_UNET_CONFIG);
    assert.throws(() => diffusersToLdmUNetKey("add_embedding.linear_1.weight", config), /no rule matches/);
  });

  test("unsupported configurations are rejected by field name", () => {
    assert.throws(
      () => unetConfigFromDiffusers({ ...SD15_UNET_CONFIG, addition_embed_type: "text_time" }),
      (e: unknown) => e instanceof UnsupportedConfigError && /addition_embed_type/.test(e.message),
    );
    assert.throws(
      () =>
        unetConfigFromDiffusers({
          ...SD15_UNET_CONFIG,
          down_block_types: ["SimpleCrossAttnDownBlock2D", "DownBlock2D", "DownBlock2D", "DownBlock2D"],
        }),
      /SimpleCrossAttnDownBlock2D/,
    );
    assert.throws(() => unetConfigFromDiffusers({ ...SD15_UNET_CONFIG, cross_attention_dim: [768, 768, 768, 768] }), /cross_attention_dim/);
  });

  test("attention_head_dim as a list gives per-block head counts, reversed on the way up", () => {
    const config = unetConfigFromDiffusers({
      ...SD15_UNET_CONFIG,
      block_out_channels: [32, 64],
      attention_head_dim: [2, 4],
      norm_num_groups: 8,
      cross_attention_dim: 16,
      down_block_types: ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
      up_block_types: ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
    });
    const unet = new UNet2DConditionModel(config, { init: "meta" });
    assert.equal(unet.down_blocks[0].attentions[0].transformer_blocks[0].attn1.heads, 2);
    assert.equal(unet.down_blocks[1].attentions[0].transformer_blocks[0].attn1.heads, 4);
    assert.equal(unet.up_blocks[0].attentions[0].transformer_blocks[0].attn1.heads, 4);
    assert.equal(unet.up_blocks[1].attentions[0].transformer_blocks[0].attn1.heads, 2);
    assert.equal(unet.mid_block.attentions[0].transformer_blocks[0].attn1.heads, 4);
  });

  test("a seeded UNet gets the same weights whatever was built before it in the process", async () => {
    const config = {
      ...SD15_UNET_CONFIG,
      block_out_channels: [32, 64],
      down_block_types: ["CrossAttnDownBlock2D", "DownBlock2D"],
      up_block_types: ["UpBlock2D", "CrossAttnUpBlock2D"],
      norm_num_groups: 8,
      layers_per_block: 1,
      cross_attention_dim: 16,
    };
    const first = UNet2DConditionModel.fromConfig(config, { seed: 3 });
    const between = UNet2DConditionModel.fromConfig(config);
    const again = UNet2DConditionModel.fromConfig(config, { seed: 3 });
    const values = (m: UNet2DConditionModel) => Promise.all(m.parameters().map(async (p) => [...(await p.toArray())]));
    const [a, b, c] = await Promise.all([first, between, again].map(values));
    assert.deepEqual(c, a);
    assert.notDeepEqual(b, a);
    for (const m of [first, between, again]) m.dispose();
  });
});
