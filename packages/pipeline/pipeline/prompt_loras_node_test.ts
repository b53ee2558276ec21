import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { applyLoras, type FormattedLora, formatLora, type LoraModuleWeights, loraAdaptersOf } from "@spo/lora";
import { writeSafetensorsFile } from "@spo/safetensors/node";
import type { Device } from "@spo/wgpu-tensor";
import { testDevice } from "@spo/wgpu-tensor/testing";
import { differingBytes } from "../test/_pixels.ts";
import { writeTinyModel } from "../test/_tiny_model_node.ts";
import { loadStableDiffusionPipeline } from "./load_pipeline_node.ts";
import { loraFolderResolver } from "./lora_folder_node.ts";
import { LoraNotFoundError, type LoraResolver } from "./prompt_loras.ts";
import type { StableDiffusionPipeline } from "./stable_diffusion_pipeline.ts";

let device: Device;
let folder: string;
let pipe: StableDiffusionPipeline;

before(async () => {
  device = await testDevice();
  folder = await writeTinyModel();
  pipe = await loadStableDiffusionPipeline(folder);
});

after(async () => {
  pipe?.dispose();
  device?.destroy();
  if (folder) await rm(folder, { recursive: true, force: true });
});

/** Deterministic values in [-scale, scale). */
function values(length: number, seed: number, scale: number): Float32Array {
  return Float32Array.from({ length }, (_, i) => scale * Math.sin(seed * 7.3 + i * 1.7));
}

/** A rank-2 LoRA on one UNet attention projection and one text-encoder projection of the tiny model. */
function tinyLora(seed: number): FormattedLora["tensors"] {
  const layer = (component: "unet" | "text_encoder", path: string, features: number): LoraModuleWeights => ({
    component,
    path,
    rank: 2,
    alpha: 2,
    down: { shape: [2, features], data: values(2 * features, seed, 0.5) },
    up: { shape: [features, 2], data: values(2 * features, seed + 1, 0.5) },
  });
  const modules = [
    layer("unet", "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q", 32),
    layer("text_encoder", "text_model.encoder.layers.0.self_attn.q_proj", 16),
  ];
  return formatLora(modules, "kohya").tensors;
}

const resolver =
  (loras: Record<string, FormattedLora["tensors"]>): LoraResolver =>
  async (name) => {
    const tensors = loras[name];
    return tensors ? { tensors } : null;
  };

const BASE = { negativePrompt: "dull", numInferenceSteps: 2, guidanceScale: 4, seed: 5, width: 32, height: 32 };

describe("<lora:…> tags in generate", () => {
  test("apply the named LoRA with the tag's text-encoder and UNet multipliers, then restore the model", async () => {
    const prompt = "<lora:style:0.5:0.8> a red fox";
    const plain = (await pipe.generate({ ...BASE, prompt })).images[0]!.data;
    const tagged = (await pipe.generate({ ...BASE, prompt, loras: resolver({ style: tinyLora(1) }) })).images[0]!.data;
    assert.ok(differingBytes(plain, tagged) > 100, "the LoRA changes the image");

    // the same LoRA attached by hand with the same multipliers gives the same pixels
    const { unet, textEncoder } = pipe.components;
    const byHand = await applyLoras({ unet, text_encoder: textEncoder }, [
      { name: "style", tensors: tinyLora(1), weights: { text_encoder: 0.5, unet: 0.8 } },
    ]);
    const manual = (await pipe.generate({ ...BASE, prompt })).images[0]!.data;
    byHand.remove();
    assert.equal(differingBytes(manual, tagged), 0);

    // afterwards no adapter is left and the base model gives its old pixels bit for bit
    assert.equal(loraAdaptersOf(unet).length, 0);
    assert.equal(loraAdaptersOf(textEncoder).length, 0);
    assert.equal(differingBytes((await pipe.generate({ ...BASE, prompt })).images[0]!.data, plain), 0);
  });

  test("the text-encoder multiplier alone changes the image (the LoRA reaches CLIP)", async () => {
    const loras = resolver({ style: tinyLora(2) });
    const unetOnly = (await pipe.generate({ ...BASE, prompt: "<lora:style:0:1> a boat", loras })).images[0]!.data;
    const both = (await pipe.generate({ ...BASE, prompt: "<lora:style:1:1> a boat", loras })).images[0]!.data;
    assert.ok(differingBytes(unetOnly, both) > 0);
  });

  test("an unknown LoRA name fails with the name and leaves no adapter behind", async () => {
    const loras = resolver({ style: tinyLora(1) });
    await assert.rejects(pipe.generate({ ...BASE, prompt: "<lora:style:1> <lora:missing:1> a cat", loras }), (error: Error) => {
      assert.ok(error instanceof LoraNotFoundError);
      assert.match(error.message, /no LoRA named "missing"/);
      return true;
    });
    assert.equal(loraAdaptersOf(pipe.components.unet).length, 0);
  });
});

describe("loraFolderResolver", () => {
  test("finds <name>.safetensors in subfolders and answers null for an unknown name", async () => {
    const dir = await mkdtemp(join(tmpdir(), "spo-loras-"));
    try {
      await mkdir(join(dir, "styles"));
      await writeSafetensorsFile(join(dir, "styles", "ink.safetensors"), tinyLora(3));
      const resolve = loraFolderResolver(dir);
      const found = await resolve("ink");
      assert.ok(found?.reader !== undefined);
      assert.ok(found.reader.names.some((name) => name.startsWith("lora_unet_down_blocks_0")));
      await found.reader.close();
      assert.equal(await resolve("styles"), null);
      assert.equal(await resolve("nope"), null);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
