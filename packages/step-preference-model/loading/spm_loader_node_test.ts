import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { serializeSafetensors, type TensorInput } from "@spo/safetensors";
import { serializeTorchCheckpoint } from "@spo/torch-checkpoint/testing";
import { type Device, tensor } from "@spo/wgpu-tensor";
import { assertClose, testDevice } from "@spo/wgpu-tensor/testing";
import { StepPreferenceScorer } from "../scoring/scorer.ts";
import { idRows, spmFixture } from "../test/_fixture.ts";
import { loadSpmTokenizer, loadStepPreferenceModel } from "./spm_loader_node.ts";
import { isTimeConditioningParameter } from "./spm_weights.ts";
import { CheckpointArchitectureError } from "../errors.ts";

let device: Device;
const directory = mkdtempSync(join(tmpdir(), "spm-loader-"));
before(async () => {
  device = await testDevice();
});
after(() => {
  device.destroy();
  rmSync(directory, { recursive: true, force: true });
});

const fixture = spmFixture();

function writeWeights(path: string, rename: (name: string) => string | null): void {
  const tensors = new Map<string, TensorInput>();
  for (const [name, t] of fixture.weights) {
    const renamed = rename(name);
    if (renamed !== null) tensors.set(renamed, t);
  }
  writeFileSync(path, serializeSafetensors(tensors));
}

async function rawScores(model: Awaited<ReturnType<typeof loadStepPreferenceModel>>): Promise<Float32Array> {
  const raw = tensor(fixture.values("raw_images").data, fixture.values("raw_images").shape, { device });
  const timesteps = [...fixture.values("timesteps").data];
  return await new StepPreferenceScorer(model, null).scoreIds(raw, idRows(fixture.values("input_ids")), timesteps);
}

describe("loadStepPreferenceModel", () => {
  test("reads a Hugging Face folder (config.json + model.safetensors) and a single published-layout file", async () => {
    const folder = join(directory, "hf");
    rmSync(folder, { recursive: true, force: true });
    await import("node:fs/promises").then((fs) => fs.mkdir(folder));
    writeFileSync(join(folder, "config.json"), JSON.stringify(fixture.manifest.config));
    writeWeights(join(folder, "model.safetensors"), (n) => n);
    const fromFolder = await loadStepPreferenceModel(folder, { device });
    assertClose(await rawScores(fromFolder), fixture.values("score_raw_images").data, fixture.manifest.tolerance);
    const single = join(directory, "spm.safetensors");
    writeWeights(single, (n) => `model.${n}`);
    const fromFile = await loadStepPreferenceModel(single, { device, config: fixture.manifest.config });
    assertClose(await rawScores(fromFile), fixture.values("score_raw_images").data, fixture.manifest.tolerance);
    fromFolder.dispose();
    fromFile.dispose();
  });

  test("reads the published layout as a PyTorch .bin (torch.save's zip format, keys under model.)", async () => {
    const tensors = new Map<string, TensorInput>();
    for (const [name, t] of fixture.weights) tensors.set(`model.${name}`, t);
    const bin = join(directory, "sd-v1-5_step-aware_preference_model.bin");
    writeFileSync(bin, serializeTorchCheckpoint(tensors));
    const model = await loadStepPreferenceModel(bin, { device, config: fixture.manifest.config });
    assertClose(await rawScores(model), fixture.values("score_raw_images").data, fixture.manifest.tolerance);
    model.dispose();
  });

  test("initFromClip starts from a plain CLIP file; a PyTorch .bin is opened and checked like any source", async () => {
    const clipFile = join(directory, "clip.safetensors");
    writeWeights(clipFile, (n) => (isTimeConditioningParameter(n) ? null : n));
    const model = await loadStepPreferenceModel(clipFile, { device, config: fixture.manifest.config, initFromClip: true });
    assert.ok(model.isTimeConditioned);
    model.dispose();
    // a real torch.save state dict (the oracle's torch_state_dict.bin: every dtype, but no CLIP towers)
    const bin = new URL("../test/fixtures/torch_state_dict.bin", import.meta.url);
    await assert.rejects(
      loadStepPreferenceModel(bin, { device, config: fixture.manifest.config }),
      (e: unknown) => e instanceof CheckpointArchitectureError && /13 tensors \("layer0.weight".*no CLIP vision tower/.test(e.message),
    );
    const garbage = join(directory, "pytorch_model.bin");
    writeFileSync(garbage, new Uint8Array(64));
    await assert.rejects(
      loadStepPreferenceModel(garbage, { device, config: fixture.manifest.config }),
      (e: unknown) => e instanceof Error && e.name === "TorchCheckpointError",
    );
  });
});

test('loadSpmTokenizer: OpenCLIP ViT-H/14 settings by default (pad "!" = 0), a folder\'s own files otherwise', async () => {
  const tokenizer = await loadSpmTokenizer();
  assert.deepEqual(tokenizer.encode("a photo of a cat").slice(0, 9), [49406, 320, 1125, 539, 320, 2368, 49407, 0, 0]);
  assert.equal(tokenizer.encode("a cat").length, 77);
});
