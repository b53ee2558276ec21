import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type SafeTensor, type TensorInput, toFloat32Array } from "@spo/safetensors";
import { type Device, type Module, tensor } from "@spo/wgpu-tensor";
import { assertClose, testDevice } from "@spo/wgpu-tensor/testing";
import { AutoencoderKL } from "../autoencoder_kl/autoencoder_kl.ts";
import { TAESD, TAESDDecoder } from "../taesd/taesd.ts";
import { taesdConfigFromJson } from "../taesd/taesd_config.ts";
import { bytesOf, fixtureCase, memoryReader } from "../test/_fixture_weights.ts";
import { loadAutoencoderKLWeights, loadTaesdWeights } from "./vae_checkpoint.ts";
import { ldmVaeName, legacyVaeName } from "./vae_key_map.ts";
import { loadAutoencoderKL, loadAutoencoderKLFromSingleFile, loadTAESD } from "./vae_loader_node.ts";

let device: Device;
let scratch: string;
before(async () => {
  device = await testDevice();
  scratch = mkdtempSync(join(tmpdir(), "vae-loading-"));
});
after(() => {
  rmSync(scratch, { recursive: true, force: true });
  device.destroy();
});

const vaeCase = fixtureCase("vae");
const taesdCase = fixtureCase("taesd_random");
const F32 = (values: number[], shape: number[]): TensorInput => ({ dtype: "F32", shape, data: Float32Array.from(values) });

/** Every parameter equals the fixture weight of the name `fileName(name)` gives. */
async function assertLoaded(model: Module, weights: Map<string, SafeTensor>, fileName = (name: string) => name): Promise<void> {
  for (const [name, parameter] of model.namedParameters()) {
    assert.deepEqual([...(await parameter.toArray())], [...toFloat32Array(weights.get(fileName(name))!)], name);
  }
}

describe("VAE key maps", () => {
  test("LDM names follow the research notes' table", () => {
    assert.equal(ldmVaeName("encoder.down_blocks.1.resnets.0.conv_shortcut.weight", 4), "encoder.down.1.block.0.nin_shortcut.weight");
    assert.equal(ldmVaeName("encoder.down_blocks.2.downsamplers.0.conv.bias", 4), "encoder.down.2.downsample.conv.bias");
    assert.equal(ldmVaeName("decoder.up_blocks.0.resnets.2.norm1.weight", 4), "decoder.up.3.block.2.norm1.weight");
    assert.equal(ldmVaeName("decoder.up_blocks.2.upsamplers.0.conv.weight", 4), "decoder.up.1.upsample.conv.weight");
    assert.equal(ldmVaeName("decoder.mid_block.resnets.1.conv2.weight", 4), "decoder.mid.block_2.conv2.weight");
    assert.equal(ldmVaeName("encoder.mid_block.attentions.0.group_norm.bias", 4), "encoder.mid.attn_1.norm.bias");
    assert.equal(ldmVaeName("encoder.mid_block.attentions.0.to_out.0.weight", 4), "encoder.mid.attn_1.proj_out.weight");
    assert.equal(ldmVaeName("decoder.conv_norm_out.weight", 4), "decoder.norm_out.weight");
    assert.equal(ldmVaeName("post_quant_conv.weight", 4), "post_quant_conv.weight");
    assert.equal(legacyVaeName("encoder.mid_block.attentions.0.to_v.weight"), "encoder.mid_block.attentions.0.value.weight");
    assert.equal(legacyVaeName("encoder.mid_block.attentions.0.group_norm.weight"), "encoder.mid_block.attentions.0.group_norm.weight");
  });
});

describe("loadAutoencoderKLWeights", () => {
  test("reads legacy diffusers attention names", async () => {
    const vae = AutoencoderKL.fromConfig(vaeCase.manifest.config, { init: "meta" });
    const legacy = new Map([...vaeCase.weights].map(([n, t]) => [legacyVaeName(n), t]));
    const report = await loadAutoencoderKLWeights(vae, await memoryReader(bytesOf(vaeCase.weights, (n, t) => [legacyVaeName(n), t])));
    assert.equal(report.loaded.length, vaeCase.weights.size);
    await assertLoaded(vae, legacy, legacyVaeName);
    vae.dispose();
  });

  test("reads a single-file checkpoint's first_stage_model (LDM names, 1×1 conv attention weights)", async () => {
    const vae = AutoencoderKL.fromConfig(vaeCase.manifest.config, { init: "meta" });
    const toLdm = (name: string, t: TensorInput): [string, TensorInput] => {
      const ldm = `first_stage_model.${ldmVaeName(name, 2)}`;
      const isProjection = /attn_1\.(q|k|v|proj_out)\.weight$/.test(ldm);
      return [ldm, isProjection ? { ...t, shape: [...t.shape, 1, 1] } : t];
    };
    const extra = {
      "model.diffusion_model.conv_in.bias": F32([0], [1]),
      "cond_stage_model.transformer.text_model.final_layer_norm.bias": F32([0], [1]),
    };
    const report = await loadAutoencoderKLWeights(vae, await memoryReader(bytesOf(vaeCase.weights, toLdm, extra)));
    assert.equal(report.loaded.length, vaeCase.weights.size);
    await assertLoaded(vae, vaeCase.weights);
    vae.dispose();
  });

  test("loadAutoencoderKL reads a diffusers folder and reproduces the oracle's decoded image", async () => {
    const root = join(scratch, "sd");
    mkdirSync(join(root, "vae"), { recursive: true });
    writeFileSync(join(root, "vae", "config.json"), JSON.stringify(vaeCase.manifest.config));
    writeFileSync(
      join(root, "vae", "diffusion_pytorch_model.safetensors"),
      bytesOf(vaeCase.weights, (n, t) => [n, t]),
    );
    const vae = await loadAutoencoderKL(root);
    const latents = vaeCase.tensors.get("latents")!;
    const decoded = vae.decode(tensor(toFloat32Array(latents), latents.shape));
    assertClose(await decoded.toArray(), toFloat32Array(vaeCase.tensors.get("decoded")!), vaeCase.manifest.tolerance);
    vae.dispose();
    const single = join(scratch, "single.safetensors");
    writeFileSync(
      single,
      bytesOf(vaeCase.weights, (n, t) => [`first_stage_model.${n}`, t]),
    );
    const fromSingle = await loadAutoencoderKLFromSingleFile(single, vaeCase.manifest.config);
    await assertLoaded(fromSingle, vaeCase.weights);
    fromSingle.dispose();
  });
});

describe("loadTaesdWeights", () => {
  /** diffusers AutoencoderTiny keys of a taesd.py key. */
  const tinyName = (name: string) =>
    name.replace(
      /^(encoder|decoder)\.(\d+)\./,
      (_, part: string, i: string) => `${part}.layers.${part === "decoder" ? Number(i) - 1 : Number(i)}.`,
    );

  test("reads diffusers AutoencoderTiny files, converting F16", async () => {
    const taesd = TAESD.fromConfig({}, { init: "meta" });
    await loadTaesdWeights(taesd, await memoryReader(bytesOf(taesdCase.weights, (n, t) => [tinyName(n), t])));
    await assertLoaded(taesd, taesdCase.weights);
    taesd.dispose();
  });

  test("a decoder alone reads taesd_decoder keys, or the decoder part of a combined file", async () => {
    const unprefixed = bytesOf(taesdCase.weights, (n, t) => (n.startsWith("decoder.") ? [n.slice("decoder.".length), t] : null));
    for (const bytes of [unprefixed, bytesOf(taesdCase.weights, (n, t) => [n, t])]) {
      const decoder = new TAESDDecoder(taesdConfigFromJson({}), { init: "meta" });
      await loadTaesdWeights(decoder, await memoryReader(bytes));
      await assertLoaded(decoder, taesdCase.weights, (name) => `decoder.${name}`);
      decoder.dispose();
    }
  });

  test("loadTAESD reads a diffusers AutoencoderTiny folder", async () => {
    const folder = join(scratch, "taesd");
    mkdirSync(folder, { recursive: true });
    writeFileSync(
      join(folder, "config.json"),
      JSON.stringify({ _class_name: "AutoencoderTiny", latent_channels: 4, act_fn: "relu", scaling_factor: 1.0 }),
    );
    writeFileSync(
      join(folder, "diffusion_pytorch_model.safetensors"),
      bytesOf(taesdCase.weights, (n, t) => [tinyName(n), t]),
    );
    const taesd = await loadTAESD(folder);
    await assertLoaded(taesd, taesdCase.weights);
    taesd.dispose();
  });
});
