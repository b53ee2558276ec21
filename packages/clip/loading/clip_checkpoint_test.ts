import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parseSafetensors, serializeSafetensors, type TensorInput, toFloat32Array } from "@spo/safetensors";
import { type Device, StateDictError, tensor } from "@spo/wgpu-tensor";
import { assertClose, testDevice } from "@spo/wgpu-tensor/testing";
import { fixtureWeights, readerOf } from "../test/_fixture_weights.ts";
import { CLIPTextModel } from "../text_encoder/clip_text_model.ts";
import { loadClipWeights } from "./clip_checkpoint.ts";
import { loadCLIPTextModel, loadCLIPTextModelFromSingleFile } from "./clip_loader_node.ts";

let device: Device;
let scratch: string;
before(async () => {
  device = await testDevice();
  scratch = mkdtempSync(join(tmpdir(), "clip-loading-"));
});
after(() => {
  rmSync(scratch, { recursive: true, force: true });
  device.destroy();
});

const { manifest, weights, file } = fixtureWeights("clip_text");
const F32 = (values: number[], shape: number[]) => ({ dtype: "F32" as const, shape, data: Float32Array.from(values) });

/** Every parameter of the model equals the fixture's tensor of the same name. */
async function assertLoadedFromFixture(model: CLIPTextModel): Promise<void> {
  for (const [name, parameter] of model.namedParameters()) {
    assert.deepEqual([...(await parameter.toArray())], [...toFloat32Array(weights.get(name)!)], name);
  }
}

describe("loadClipWeights", () => {
  test("reads SD single-file checkpoints, with and without the text_model level, and ignores other models' keys", async () => {
    const extra = {
      "model.diffusion_model.conv_in.bias": F32([1, 2], [2]),
      "cond_stage_model.transformer.text_model.embeddings.position_ids": F32([0, 1], [1, 2]),
    };
    for (const rename of [
      (n: string) => `cond_stage_model.transformer.${n}`,
      (n: string) => `cond_stage_model.transformer.${n.replace(/^text_model\./, "")}`,
    ]) {
      const model = CLIPTextModel.fromConfig(manifest.config, { init: "meta" });
      const report = await loadClipWeights(model, await readerOf(weights, rename, extra));
      assert.equal(report.loaded.length, weights.size);
      await assertLoadedFromFixture(model);
      model.dispose();
    }
  });

  test("reads the text tower out of a full CLIPModel file", async () => {
    const extra = {
      "vision_model.post_layernorm.weight": F32([1], [1]),
      logit_scale: F32([2.6], []),
      "text_projection.weight": F32([1, 0], [1, 2]),
    };
    const model = CLIPTextModel.fromConfig(manifest.config, { init: "meta" });
    const report = await loadClipWeights(model, await readerOf(weights, (n) => n, extra));
    assert.equal(report.unexpected.length, 0);
    await assertLoadedFromFixture(model);
    model.dispose();
  });

  test("a strict load names the missing and unexpected keys before reading any tensor", async () => {
    const model = CLIPTextModel.fromConfig(manifest.config, { init: "meta" });
    const drop = "text_model.encoder.layers.1.mlp.fc2.bias";
    const reader = await readerOf(weights, (n) => (n === drop ? null : n), { "text_model.encoder.layers.9.mlp.fc2.bias": F32([0], [1]) });
    await assert.rejects(loadClipWeights(model, reader), (e: unknown) => {
      assert.ok(e instanceof StateDictError);
      assert.deepEqual(e.report.missing, [drop]);
      assert.deepEqual(e.report.unexpected, ["text_model.encoder.layers.9.mlp.fc2.bias"]);
      assert.equal(e.report.loaded.length, 0);
      return true;
    });
    assert.ok(
      model.parameters().every((p) => p.isMeta),
      "nothing was loaded",
    );
  });
});

describe("Node loaders", () => {
  test("loadCLIPTextModel reads a diffusers folder and reproduces the oracle's last_hidden_state", async () => {
    const root = join(scratch, "sd");
    mkdirSync(join(root, "text_encoder"), { recursive: true });
    writeFileSync(join(root, "text_encoder", "config.json"), JSON.stringify(manifest.config));
    writeFileSync(join(root, "text_encoder", "model.safetensors"), serializeSafetensors(weights));
    const model = await loadCLIPTextModel(root);
    const expected = parseSafetensors(readFileSync(file)).tensors;
    const ids = expected.get("input_ids")!;
    const out = model.forward(tensor(Int32Array.from(toFloat32Array(ids)), [...ids.shape], { dtype: "i32" }));
    assertClose(await out.lastHiddenState.toArray(), toFloat32Array(expected.get("last_hidden_state")!), manifest.tolerance);
    model.dispose();
    await assert.rejects(loadCLIPTextModel(root, { variant: "fp16" }), /model\.fp16\.safetensors does not exist/);
  });

  test("loadCLIPTextModelFromSingleFile reads the text encoder of a single-file checkpoint", async () => {
    const path = join(scratch, "single.safetensors");
    const tensors = new Map<string, TensorInput>([...weights].map(([n, t]) => [`cond_stage_model.transformer.${n}`, t]));
    tensors.set("first_stage_model.quant_conv.bias", F32([0, 0], [2]));
    writeFileSync(path, serializeSafetensors(tensors));
    const model = await loadCLIPTextModelFromSingleFile(path, manifest.config);
    await assertLoadedFromFixture(model);
    model.dispose();
  });
});
