// The Node CLIP loaders take PyTorch checkpoints as well as safetensors: a transformers folder
// with pytorch_model.bin, and an A1111 single-file .ckpt (cond_stage_model.* under state_dict).
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parseSafetensors, toFloat32Array } from "@spo/safetensors";
import { serializeTorchCheckpoint } from "@spo/torch-checkpoint/testing";
import { type Device, tensor } from "@spo/wgpu-tensor";
import { assertClose, testDevice } from "@spo/wgpu-tensor/testing";
import { fixtureWeights } from "../test/_fixture_weights.ts";
import { loadCLIPTextModel, loadCLIPTextModelFromSingleFile } from "./clip_loader_node.ts";

let device: Device;
let scratch: string;
before(async () => {
  device = await testDevice();
  scratch = mkdtempSync(join(tmpdir(), "clip-torch-"));
});
after(() => {
  rmSync(scratch, { recursive: true, force: true });
  device.destroy();
});

const { manifest, weights, file } = fixtureWeights("clip_text");

test("loadCLIPTextModel() reads a transformers folder's pytorch_model.bin and reproduces the oracle", async () => {
  const folder = join(scratch, "text_encoder");
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, "config.json"), JSON.stringify(manifest.config));
  writeFileSync(join(folder, "pytorch_model.bin"), serializeTorchCheckpoint(weights));
  const model = await loadCLIPTextModel(folder, { device });
  const expected = parseSafetensors(readFileSync(file)).tensors;
  const ids = expected.get("input_ids")!;
  const out = model.forward(tensor(Int32Array.from(toFloat32Array(ids)), [...ids.shape], { dtype: "i32", device }));
  assertClose(await out.lastHiddenState.toArray(), toFloat32Array(expected.get("last_hidden_state")!), manifest.tolerance);
  model.dispose();
});

test("loadCLIPTextModelFromSingleFile() reads the text encoder out of an A1111 .ckpt's state_dict", async () => {
  const path = join(scratch, "model.ckpt");
  const tensors = new Map([...weights].map(([name, t]) => [`cond_stage_model.transformer.${name}`, t]));
  writeFileSync(path, serializeTorchCheckpoint(tensors, { wrapInStateDict: true }));
  const model = await loadCLIPTextModelFromSingleFile(path, manifest.config, { device });
  for (const [name, parameter] of model.namedParameters()) {
    assert.deepEqual([...(await parameter.toArray())], [...toFloat32Array(weights.get(name)!)], name);
  }
  model.dispose();
});
