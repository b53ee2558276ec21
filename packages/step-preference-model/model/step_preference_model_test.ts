import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Device, randn, tensor } from "@spo/wgpu-tensor";
import { testDevice } from "@spo/wgpu-tensor/testing";
import { initStepPreferenceModelFromClip, isTimeConditioningParameter, loadStepPreferenceWeights } from "../loading/spm_weights.ts";
import { StepPreferenceScorer } from "../scoring/scorer.ts";
import { idRows, readerOf, spmFixture } from "../test/_fixture.ts";
import { VIT_H_14_CONFIG } from "./spm_config.ts";
import { StepPreferenceModel } from "./step_preference_model.ts";
import { timestepSinusoid } from "./timestep_embedder.ts";
import type { TimeConditionedEncoderLayer } from "./time_conditioned_vision.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

/** Parameters of one pre-LN CLIP layer of width d and MLP width m (4 biased projections, 2 LayerNorms, MLP). */
function clipLayer(d: number, m: number): number {
  return 4 * (d * d + d) + 2 * 2 * d + (d * m + m) + (m * d + d);
}

describe("StepPreferenceModel", () => {
  test("the published ViT-H/14 configuration builds shape-only; its parameter count is the config arithmetic (≈1.31 B)", (t) => {
    const model = StepPreferenceModel.fromConfig(VIT_H_14_CONFIG, { init: "meta" });
    const [dt, mt, lt, vocab, positions] = [1024, 4096, 24, 49408, 77];
    const [dv, mv, lv, patch, image, freq, proj] = [1280, 5120, 32, 14, 224, 256, 1024];
    const text = vocab * dt + positions * dt + lt * clipLayer(dt, mt) + 2 * dt;
    const tokens = (image / patch) ** 2 + 1;
    const adaLN = lv * (dv * 6 * dv + 6 * dv) + (dv * 2 * dv + 2 * dv);
    const vision = dv + 3 * patch * patch * dv + tokens * dv + 2 * dv + lv * clipLayer(dv, mv) + 2 * dv + adaLN;
    const tEmbedder = freq * dv + dv + dv * dv + dv;
    const expected = text + vision + dv * proj + dt * proj + 1 + tEmbedder;
    t.diagnostic(
      `ViT-H/14 step-aware preference model: ${model.parameterCount().toLocaleString("en-US")} parameters (adaLN ${adaLN.toLocaleString("en-US")}, t_embedder ${tEmbedder.toLocaleString("en-US")})`,
    );
    assert.equal(model.parameterCount(), expected);
    assert.ok(expected > 1.3e9 && expected < 1.32e9, `${expected} ≈ 1.31 B`);
    const names = new Map([...model.namedParameters()].map(([name, p]) => [name, [...p.shape]]));
    assert.deepEqual(names.get("vision_model.encoder.layers.31.adaLN_modulation.1.weight"), [7680, 1280]);
    assert.deepEqual(names.get("vision_model.adaLN_modulation.1.bias"), [2560]);
    assert.deepEqual(names.get("t_embedder.mlp.0.weight"), [1280, 256]);
    assert.deepEqual(names.get("t_embedder.mlp.2.weight"), [1280, 1280]);
    assert.deepEqual(names.get("logit_scale"), []);
    assert.deepEqual(names.get("text_projection.weight"), [1024, 1024]);
    const agnostic = StepPreferenceModel.fromConfig(VIT_H_14_CONFIG, { init: "meta", isTimeConditioned: false });
    assert.equal(agnostic.parameterCount(), expected - adaLN - tEmbedder);
    assert.ok(![...agnostic.namedParameters()].some(([name]) => isTimeConditioningParameter(name)));
  });

  test("the sinusoid is [cos | sin] with DiT's frequencies", () => {
    const embedding = timestepSinusoid([0, 500], 8);
    assert.deepEqual([...embedding.subarray(0, 8)], [1, 1, 1, 1, 0, 0, 0, 0]);
    const freqs = [0, 1, 2, 3].map((i) => Math.exp((-Math.log(10000) * i) / 4));
    freqs.forEach((f, i) => {
      assert.ok(Math.abs(embedding[8 + i] - Math.cos(500 * f)) < 1e-4);
      assert.ok(Math.abs(embedding[12 + i] - Math.sin(500 * f)) < 1e-4);
    });
  });

  test("initialised from a plain CLIP checkpoint with SPO's adaLN init, it scores exactly like that CLIP at every timestep", async () => {
    const { manifest, weights } = spmFixture();
    const clipOnly = (name: string) => (isTimeConditioningParameter(name) ? null : name);
    const spm = StepPreferenceModel.fromConfig(manifest.config, { init: "meta", device });
    const report = await initStepPreferenceModelFromClip(spm, await readerOf(weights, clipOnly), { seed: 3 });
    assert.deepEqual(report.missing, []);
    const clip = StepPreferenceModel.fromConfig(manifest.config, { init: "meta", device, isTimeConditioned: false });
    await loadStepPreferenceWeights(clip, await readerOf(weights, clipOnly));
    spm.requiresGrad_(false);
    clip.requiresGrad_(false);
    // the init itself: t_embedder weights ~ N(0, 0.02), gates' biases 1, everything else of adaLN 0
    const tWeight = Array.from(await spm.t_embedder!.mlp.first.weight.toArray());
    const std = Math.sqrt(tWeight.reduce((s, v) => s + v * v, 0) / tWeight.length);
    assert.ok(std > 0.015 && std < 0.025, `t_embedder std ${std}`);
    const layer = spm.vision_model.encoder.layers[1] as TimeConditionedEncoderLayer;
    const bias = await layer.adaLN_modulation.linear.bias!.toArray();
    assert.deepEqual(
      [...bias],
      Array.from({ length: 6 * 32 }, (_, i) => (Math.floor(i / 32) === 2 || Math.floor(i / 32) === 5 ? 1 : 0)),
    );

    const images = randn([3, 3, 40, 56], { seed: 9, device });
    const ids = idRows(spmFixture().values("input_ids"));
    const plain = await new StepPreferenceScorer(clip, null).scoreIds(images, ids, [0, 0, 0]);
    for (const t of [0, 251, 501, 701, 951, 999]) {
      const scores = await new StepPreferenceScorer(spm, null).scoreIds(images, ids, [t, t, t]);
      assert.deepEqual([...scores], [...plain], `t = ${t}`);
    }
    spm.dispose();
    clip.dispose();
  });

  test("the step-agnostic model ignores the timestep and has no time embedding", async () => {
    const { manifest } = spmFixture();
    const agnostic = StepPreferenceModel.fromConfig(manifest.config, { device, seed: 4, isTimeConditioned: false }).requiresGrad_(false);
    const pixels = randn([2, 3, 32, 32], { seed: 2, device });
    const ids = tensor(Int32Array.from([998, 5, 999, 0, 998, 7, 999, 0]), [2, 4], { dtype: "i32", device });
    const a = await agnostic.pairScores(pixels, ids, [0, 0]).toArray();
    const b = await agnostic.pairScores(pixels, ids, [999, 10]).toArray();
    assert.deepEqual([...a], [...b]);
    assert.throws(() => agnostic.timeEmbedding([1]), /step-agnostic/);
    agnostic.dispose();
  });

  test("a seeded model gets the same weights whatever was built before it in the process", async () => {
    const { manifest } = spmFixture();
    const values = (m: StepPreferenceModel) => Promise.all(m.parameters().map(async (p) => [...(await p.toArray())]));
    const first = StepPreferenceModel.fromConfig(manifest.config, { device, seed: 9 });
    const between = StepPreferenceModel.fromConfig(manifest.config, { device, seed: 10 });
    const again = StepPreferenceModel.fromConfig(manifest.config, { device, seed: 9 });
    const [a, b, c] = await Promise.all([first, between, again].map(values));
    assert.deepEqual(c, a);
    assert.notDeepEqual(b, a);
    for (const m of [first, between, again]) m.dispose();
  });
});
