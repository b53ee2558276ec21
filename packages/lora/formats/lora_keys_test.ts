import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseLoraKey } from "./lora_keys.ts";

const PATH = "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q";

describe("parseLoraKey()", () => {
  test("reads the diffusers names of SPO's files, the attention-processor names and the text encoder's lora_linear_layer", () => {
    assert.deepEqual(parseLoraKey(`unet.${PATH}.lora.down.weight`), {
      type: "lora",
      format: "diffusers",
      component: "unet",
      module: { dotted: PATH },
      role: "down",
    });
    assert.deepEqual(parseLoraKey(`unet.${PATH}.lora.up.weight`), {
      type: "lora",
      format: "diffusers",
      component: "unet",
      module: { dotted: PATH },
      role: "up",
    });
    assert.deepEqual(parseLoraKey("down_blocks.0.attentions.0.transformer_blocks.0.attn1.processor.to_out_lora.up.weight"), {
      type: "lora",
      format: "diffusers",
      component: null,
      module: { dotted: "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_out.0" },
      role: "up",
    });
    assert.deepEqual(parseLoraKey("text_encoder.text_model.encoder.layers.0.self_attn.q_proj.lora_linear_layer.down.weight"), {
      type: "lora",
      format: "diffusers",
      component: "text_encoder",
      module: { dotted: "text_model.encoder.layers.0.self_attn.q_proj" },
      role: "down",
    });
    assert.deepEqual(parseLoraKey(`unet.${PATH}.alpha`), {
      type: "lora",
      format: "diffusers",
      component: "unet",
      module: { dotted: PATH },
      role: "alpha",
    });
  });

  test("reads lora_A/lora_B with the diffusers component prefix, PEFT's base_model.model. prefix and adapter names", () => {
    assert.deepEqual(parseLoraKey(`unet.${PATH}.lora_A.weight`), {
      type: "lora",
      format: "diffusers-peft",
      component: "unet",
      module: { dotted: PATH },
      role: "down",
    });
    assert.deepEqual(parseLoraKey(`base_model.model.${PATH}.lora_B.weight`), {
      type: "lora",
      format: "peft",
      component: null,
      module: { dotted: PATH },
      role: "up",
    });
    assert.deepEqual(parseLoraKey(`${PATH}.lora_A.default.weight`), {
      type: "lora",
      format: "diffusers-peft",
      component: null,
      module: { dotted: PATH },
      role: "down",
    });
    assert.deepEqual(parseLoraKey("text_encoder_2.text_model.encoder.layers.3.mlp.fc1.lora_B.weight"), {
      type: "lora",
      format: "diffusers-peft",
      component: "text_encoder_2",
      module: { dotted: "text_model.encoder.layers.3.mlp.fc1" },
      role: "up",
    });
  });

  test("reads kohya names as flat names to resolve later, with their component from the prefix", () => {
    assert.deepEqual(parseLoraKey("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_out_0.lora_down.weight"), {
      type: "lora",
      format: "kohya",
      component: "unet",
      module: { kohya: "down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_out_0" },
      role: "down",
    });
    assert.deepEqual(parseLoraKey("lora_te_text_model_encoder_layers_11_mlp_fc2.alpha"), {
      type: "lora",
      format: "kohya",
      component: "text_encoder",
      module: { kohya: "text_model_encoder_layers_11_mlp_fc2" },
      role: "alpha",
    });
    assert.deepEqual(parseLoraKey("lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_up.weight"), {
      type: "lora",
      format: "kohya",
      component: "text_encoder_2",
      module: { kohya: "text_model_encoder_layers_0_mlp_fc1" },
      role: "up",
    });
  });

  test("LyCORIS and DoRA tensors are recognised as unsupported, anything else as not a LoRA key", () => {
    for (const key of [
      "lora_unet_mid_block_attentions_0_proj_in.hada_w1_a",
      "lora_unet_mid_block_attentions_0_proj_in.lokr_w1",
      "lora_unet_down_blocks_0_resnets_0_conv1.lora_mid.weight",
      "lora_unet_mid_block_attentions_0_proj_in.dora_scale",
      `base_model.model.${PATH}.lora_magnitude_vector.default`,
    ]) {
      assert.equal(parseLoraKey(key).type, "unsupported", key);
    }
    for (const key of [`${PATH}.weight`, "lora_unet_mid_block.weight", "model.diffusion_model.out.2.bias"])
      assert.deepEqual(parseLoraKey(key), { type: "other" }, key);
  });
});
