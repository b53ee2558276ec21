import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { serializeSafetensors, type TensorInput } from "@spo/safetensors";
import { type Device, tensor } from "@spo/wgpu-tensor";
import { assertClose, testDevice } from "@spo/wgpu-tensor/testing";
import { StepPreferenceScorer } from "../scoring/scorer.ts";
import { idRows, spmFixture } from "../test/_fixture.ts";
import { loadStepPreferenceModel } from "./spm_loader_node.ts";

// Heavy tier: compiling every f16 kernel variant takes ~25 s on a 2-core CPU adapter.

let device: Device;
const directory = mkdtempSync(join(tmpdir(), "spm-f16-"));
before(async () => {
  device = await testDevice();
  const tensors = new Map<string, TensorInput>();
  for (const [name, t] of fixture.weights) tensors.set(`model.${name}`, t);
  writeFileSync(join(directory, "spm.safetensors"), serializeSafetensors(tensors));
});
after(() => {
  device.destroy();
  rmSync(directory, { recursive: true, force: true });
});

const fixture = spmFixture();

async function rawScores(model: Awaited<ReturnType<typeof loadStepPreferenceModel>>): Promise<Float32Array> {
  const raw = tensor(fixture.values("raw_images").data, fixture.values("raw_images").shape, { device });
  const timesteps = [...fixture.values("timesteps").data];
  return await new StepPreferenceScorer(model, null).scoreIds(raw, idRows(fixture.values("input_ids")), timesteps);
}

test("f16 weights (shader-f16 devices) score close to the f32 reference", async (t) => {
  if (!device.hasF16) {
    t.diagnostic("this adapter has no shader-f16: f16 loading refused by name instead");
    await assert.rejects(
      loadStepPreferenceModel(join(directory, "spm.safetensors"), { device, dtype: "f16", config: fixture.manifest.config }),
      /shader-f16/,
    );
    return;
  }
  const model = await loadStepPreferenceModel(join(directory, "spm.safetensors"), {
    device,
    dtype: "f16",
    config: fixture.manifest.config,
  });
  assert.equal(model.text_projection.weight.dtype, "f16");
  assert.equal(model.vision_model.encoder.layers[0].mlp.fc1.weight.dtype, "f16");
  assertClose(await rawScores(model), fixture.values("score_raw_images").data, { atol: 2e-2, rtol: 2e-2 });
  model.dispose();
});
