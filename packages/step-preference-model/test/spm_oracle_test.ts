import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Device, StateDictError, tensor } from "@spo/wgpu-tensor";
import { assertClose, testDevice } from "@spo/wgpu-tensor/testing";
import { CheckpointArchitectureError } from "../errors.ts";
import { StepPreferenceModel } from "../model/step_preference_model.ts";
import { loadStepPreferenceWeights } from "../loading/spm_weights.ts";
import { StepPreferenceScorer } from "../scoring/scorer.ts";
import { idRows, readerOf, spmFixture } from "./_fixture.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

const fixture = spmFixture();
const tolerance = fixture.manifest.tolerance;

async function loadedModel(rename: (name: string) => string | null = (n) => `model.${n}`): Promise<StepPreferenceModel> {
  const model = StepPreferenceModel.fromConfig(fixture.manifest.config, { init: "meta", device });
  await loadStepPreferenceWeights(model, await readerOf(fixture.weights, rename));
  model.requiresGrad_(false);
  return model;
}

describe("the spm_time_conditioning oracle case (SPO's HFTimeConditionedCLIPModel, tiny config)", () => {
  test("every output matches the reference, weights read under the published `model.` prefix", async () => {
    const model = await loadedModel();
    const timesteps = [...fixture.values("timesteps").data];
    const idsHost = fixture.values("input_ids");
    const ids = tensor(Int32Array.from(idsHost.data), idsHost.shape, { dtype: "i32", device });
    const pixels = tensor(fixture.values("pixel_values").data, fixture.values("pixel_values").shape, { device });
    const check = async (name: string, got: { toArray(): Promise<ArrayLike<number>> }) => {
      assertClose(await got.toArray(), fixture.values(name).data, tolerance, name);
    };
    await check("t_emb", model.timeEmbedding(timesteps));
    const image = model.encodeImages(pixels, timesteps);
    await check("vision_last_hidden_state", image.lastHiddenState);
    await check("vision_pooled", image.pooledOutput);
    await check("image_embeds", image.imageEmbeds);
    await check("text_embeds", model.getTextFeatures(ids));
    await check("logits_per_image", model.forward(pixels, ids, timesteps).logitsPerImage);
    await check("score_pixel_values", model.pairScores(pixels, ids, timesteps));
    const raw = tensor(fixture.values("raw_images").data, fixture.values("raw_images").shape, { device });
    const scores = await new StepPreferenceScorer(model, null, { chunkSize: 2 }).scoreIds(raw, idRows(idsHost), timesteps);
    assertClose(scores, fixture.values("score_raw_images").data, tolerance, "score_raw_images");
    model.dispose();
  });

  test("the scores depend on the timestep (the adaLN weights are not zero)", async () => {
    const model = await loadedModel((n) => n);
    const idsHost = fixture.values("input_ids");
    const raw = tensor(fixture.values("raw_images").data, fixture.values("raw_images").shape, { device });
    const scorer = new StepPreferenceScorer(model, null);
    const early = await scorer.scoreIds(raw, idRows(idsHost), [0, 0, 0]);
    const late = await scorer.scoreIds(raw, idRows(idsHost), [999, 999, 999]);
    assert.ok(early.some((v, i) => Math.abs(v - late[i]) > 1e-3));
    model.dispose();
  });

  test("a strict load names missing, unexpected and mis-shaped tensors before reading any data", async () => {
    const model = StepPreferenceModel.fromConfig(fixture.manifest.config, { init: "meta", device });
    const renamed = (name: string) =>
      name === "t_embedder.mlp.2.bias" ? null : name === "logit_scale" ? "logit_scale_typo" : `model.${name}`;
    const reader = await readerOf(fixture.weights, renamed);
    let dataReads = 0;
    const counting = {
      names: reader.names,
      has: (n: string) => reader.has(n),
      info: (n: string) => reader.info(n),
      float32: (n: string) => (dataReads++, reader.float32(n)),
    };
    await assert.rejects(loadStepPreferenceWeights(model, counting), (error: unknown) => {
      assert.ok(error instanceof StateDictError);
      assert.deepEqual(error.report.missing.sort(), ["logit_scale", "t_embedder.mlp.2.bias"]);
      assert.deepEqual(error.report.loaded, []);
      return true;
    });
    assert.equal(dataReads, 0, "no tensor data was read");
    const wider = StepPreferenceModel.fromConfig(
      { ...fixture.manifest.config, t_embedder_frequency_embedding_size: 128 },
      { init: "meta", device },
    );
    await assert.rejects(loadStepPreferenceWeights(wider, await readerOf(fixture.weights)), (error: unknown) => {
      assert.ok(error instanceof StateDictError);
      assert.deepEqual(error.report.mismatched, [{ name: "t_embedder.mlp.0.weight", expected: [32, 128], got: [32, 256] }]);
      return true;
    });
  });

  test("checkpoints of another architecture are refused by name: a plain CLIP, a UNet, time weights into a step-agnostic model", async () => {
    const model = StepPreferenceModel.fromConfig(fixture.manifest.config, { init: "meta", device });
    const plainClip = await readerOf(fixture.weights, (n) => (n.startsWith("t_embedder.") || n.includes("adaLN_modulation") ? null : n));
    await assert.rejects(
      loadStepPreferenceWeights(model, plainClip),
      (e: unknown) => e instanceof CheckpointArchitectureError && /plain CLIP checkpoint.*initStepPreferenceModelFromClip/.test(e.message),
    );
    const unet = await readerOf(new Map([["conv_in.weight", { dtype: "F32" as const, shape: [1], data: new Uint8Array(4) }]]));
    await assert.rejects(
      loadStepPreferenceWeights(model, unet),
      (e: unknown) => e instanceof CheckpointArchitectureError && /no CLIP vision tower/.test(e.message),
    );
    const agnostic = StepPreferenceModel.fromConfig(fixture.manifest.config, { init: "meta", device, isTimeConditioned: false });
    await assert.rejects(
      loadStepPreferenceWeights(agnostic, await readerOf(fixture.weights)),
      (e: unknown) => e instanceof CheckpointArchitectureError && /step-agnostic/.test(e.message),
    );
  });
});
