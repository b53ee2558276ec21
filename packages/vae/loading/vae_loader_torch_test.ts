// The Node VAE loaders take PyTorch checkpoints as well as safetensors: a diffusers folder with
// diffusion_pytorch_model.bin, and an A1111 single-file .ckpt (first_stage_model.* under state_dict).
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { toFloat32Array } from "@spo/safetensors";
import { serializeTorchCheckpoint } from "@spo/torch-checkpoint/testing";
import { type Device, tensor } from "@spo/wgpu-tensor";
import { assertClose, testDevice } from "@spo/wgpu-tensor/testing";
import { fixtureCase } from "../test/_fixture_weights.ts";
import { loadAutoencoderKL, loadAutoencoderKLFromSingleFile } from "./vae_loader_node.ts";

let device: Device;
let scratch: string;
before(async () => {
  device = await testDevice();
  scratch = mkdtempSync(join(tmpdir(), "vae-torch-"));
});
after(() => {
  rmSync(scratch, { recursive: true, force: true });
  device.destroy();
});

const vaeCase = fixtureCase("vae");

test("loadAutoencoderKL() reads diffusion_pytorch_model.bin and reproduces the oracle's decoded image", async () => {
  const root = join(scratch, "sd");
  mkdirSync(join(root, "vae"), { recursive: true });
  writeFileSync(join(root, "vae", "config.json"), JSON.stringify(vaeCase.manifest.config));
  writeFileSync(join(root, "vae", "diffusion_pytorch_model.bin"), serializeTorchCheckpoint(vaeCase.weights));
  const vae = await loadAutoencoderKL(root, { device });
  const latents = vaeCase.tensors.get("latents")!;
  const decoded = vae.decode(tensor(toFloat32Array(latents), latents.shape, { device }));
  assertClose(await decoded.toArray(), toFloat32Array(vaeCase.tensors.get("decoded")!), vaeCase.manifest.tolerance);
  vae.dispose();
});

test("loadAutoencoderKLFromSingleFile() reads the VAE out of an A1111 .ckpt's state_dict", async () => {
  const path = join(scratch, "model.ckpt");
  const tensors = new Map([...vaeCase.weights].map(([name, t]) => [`first_stage_model.${name}`, t]));
  writeFileSync(path, serializeTorchCheckpoint(tensors, { wrapInStateDict: true, values: { epoch: 1 } }));
  const vae = await loadAutoencoderKLFromSingleFile(path, vaeCase.manifest.config, { device });
  for (const [name, parameter] of vae.namedParameters()) {
    assert.deepEqual([...(await parameter.toArray())], [...toFloat32Array(vaeCase.weights.get(name)!)], name);
  }
  vae.dispose();
});
