// The Node UNet loaders take PyTorch checkpoints as well as safetensors: a diffusers folder with
// diffusion_pytorch_model.bin, and an A1111 single-file .ckpt (weights under state_dict, LDM names).
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parseSafetensors, type SafeTensor, toFloat32Array } from "@spo/safetensors";
import { serializeTorchCheckpoint } from "@spo/torch-checkpoint/testing";
import type { Device } from "@spo/wgpu-tensor";
import { testDevice } from "@spo/wgpu-tensor/testing";
import { unetConfigFromDiffusers } from "../unet/config.ts";
import type { UNet2DConditionModel } from "../unet/unet_2d_condition.ts";
import { ldmKeyMap, LDM_UNET_PREFIX } from "./ldm_key_map.ts";
import { loadUNetFromFolder, loadUNetFromSingleFile } from "./load_unet_node.ts";

const FIXTURES = new URL("../test/fixtures/oracle/", import.meta.url);
const manifest = JSON.parse(readFileSync(new URL("unet.json", FIXTURES), "utf8")) as { config: Record<string, unknown> };
const weights = new Map<string, SafeTensor>();
for (const [name, tensor] of parseSafetensors(readFileSync(new URL("unet.safetensors", FIXTURES))).tensors) {
  if (name.startsWith("weights.")) weights.set(name.slice("weights.".length), tensor);
}

let device: Device;
let scratch: string;
before(async () => {
  device = await testDevice();
  scratch = mkdtempSync(join(tmpdir(), "unet-torch-"));
});
after(() => {
  rmSync(scratch, { recursive: true, force: true });
  device.destroy();
});

async function assertLoaded(unet: UNet2DConditionModel): Promise<void> {
  for (const [name, parameter] of unet.namedParameters()) {
    assert.deepEqual([...(await parameter.toArray())], [...toFloat32Array(weights.get(name)!)], name);
  }
}

test("loadUNetFromFolder() reads diffusion_pytorch_model.bin when the folder has no safetensors", async () => {
  const folder = join(scratch, "sd", "unet");
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, "config.json"), JSON.stringify(manifest.config));
  writeFileSync(join(folder, "diffusion_pytorch_model.bin"), serializeTorchCheckpoint(weights));
  const unet = await loadUNetFromFolder(join(scratch, "sd"), { device });
  await assertLoaded(unet);
  unet.dispose();
});

test("loadUNetFromSingleFile() reads the UNet out of an A1111 .ckpt's state_dict", async () => {
  const map = ldmKeyMap(weights.keys(), unetConfigFromDiffusers(manifest.config));
  const ldm = new Map([...weights].map(([name, tensor]) => [LDM_UNET_PREFIX + map.get(name)!, tensor]));
  ldm.set("first_stage_model.quant_conv.bias", { dtype: "F32", shape: [2], data: new Uint8Array(8) });
  const path = join(scratch, "model.ckpt");
  writeFileSync(path, serializeTorchCheckpoint(ldm, { wrapInStateDict: true, values: { global_step: 470000 } }));
  const unet = await loadUNetFromSingleFile(path, manifest.config, { device });
  await assertLoaded(unet);
  unet.dispose();
});
