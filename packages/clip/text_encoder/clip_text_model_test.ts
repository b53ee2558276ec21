import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { backward, type Device, DTypeError, ShapeError, sum, tensor } from "@spo/wgpu-tensor";
import { assertClose, testDevice } from "@spo/wgpu-tensor/testing";
import { clipTextConfigFromTransformers, SD15_TEXT_ENCODER_CONFIG, UnsupportedConfigError } from "../transformer/clip_config.ts";
import { CLIPTextModel, CLIPTextModelWithProjection } from "./clip_text_model.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

/** Every SD1.5 text-encoder tensor with its shape, enumerated from the research notes (§3.3). */
function sd15TextEncoderShapes(): Map<string, number[]> {
  const shapes = new Map<string, number[]>([
    ["text_model.embeddings.token_embedding.weight", [49408, 768]],
    ["text_model.embeddings.position_embedding.weight", [77, 768]],
    ["text_model.final_layer_norm.weight", [768]],
    ["text_model.final_layer_norm.bias", [768]],
  ]);
  for (let i = 0; i < 12; i++) {
    const layer = `text_model.encoder.layers.${i}`;
    for (const projection of ["q_proj", "k_proj", "v_proj", "out_proj"]) {
      shapes.set(`${layer}.self_attn.${projection}.weight`, [768, 768]);
      shapes.set(`${layer}.self_attn.${projection}.bias`, [768]);
    }
    for (const norm of ["layer_norm1", "layer_norm2"]) {
      shapes.set(`${layer}.${norm}.weight`, [768]);
      shapes.set(`${layer}.${norm}.bias`, [768]);
    }
    shapes.set(`${layer}.mlp.fc1.weight`, [3072, 768]);
    shapes.set(`${layer}.mlp.fc1.bias`, [3072]);
    shapes.set(`${layer}.mlp.fc2.weight`, [768, 3072]);
    shapes.set(`${layer}.mlp.fc2.bias`, [768]);
  }
  return shapes;
}

/** A tiny random text encoder (hidden 16, 3 layers) with the real vocabulary size. */
const TINY = { vocab_size: 49408, hidden_size: 16, intermediate_size: 24, num_attention_heads: 2, num_hidden_layers: 3, eos_token_id: 2 };

function sdIds(rows: number[][]): number[] {
  // BOS, content, EOS, padded with EOS to 77 (what the SD tokenizer produces)
  return rows.flatMap((row) => [49406, ...row, ...Array(76 - row.length).fill(49407)]);
}

describe("CLIPTextModel structure", () => {
  test("the SD1.5 configuration builds shape-only with 196 tensors and 123,060,480 parameters", () => {
    const before = device.memory().liveBytes;
    const model = CLIPTextModel.fromConfig(SD15_TEXT_ENCODER_CONFIG, { init: "meta" });
    const named = [...model.namedParameters()];
    assert.equal(named.length, 196);
    assert.equal(model.parameterCount(), 123_060_480);
    assert.deepEqual(new Map(named.map(([name, t]) => [name, [...t.shape]])), sd15TextEncoderShapes());
    assert.equal(device.memory().liveBytes, before, "a shape-only model allocates nothing");
  });

  test("the projection variant adds text_projection without a bias", () => {
    const model = CLIPTextModelWithProjection.fromConfig({ ...SD15_TEXT_ENCODER_CONFIG, projection_dim: 512 }, { init: "meta" });
    const named = new Map([...model.namedParameters()].map(([name, t]) => [name, [...t.shape]]));
    assert.equal(named.size, 197);
    assert.deepEqual(named.get("text_projection.weight"), [512, 768]);
    assert.equal(named.has("text_projection.bias"), false);
  });

  test("a CLIPConfig's text_config is read, with the top-level projection_dim", () => {
    const config = clipTextConfigFromTransformers({
      model_type: "clip",
      projection_dim: 768,
      text_config: { hidden_size: 768, projection_dim: 512 },
    });
    assert.equal(config.hiddenSize, 768);
    assert.equal(config.projectionDim, 768);
    assert.equal(config.eosTokenId, 49407, "transformers' default");
  });

  test("unsupported configuration values are rejected by name", () => {
    assert.throws(
      () => clipTextConfigFromTransformers({ hidden_act: "relu" }),
      (e: unknown) => e instanceof UnsupportedConfigError && /hidden_act = "relu"/.test(e.message),
    );
    assert.throws(
      () => clipTextConfigFromTransformers({ hidden_size: 30, num_attention_heads: 4 }),
      /not divisible by num_attention_heads 4/,
    );
    assert.throws(() => clipTextConfigFromTransformers({ model_type: "t5" }), /model_type = "t5"/);
  });
});

describe("CLIPTextModel forward", () => {
  test("ids of the wrong dtype, rank or length are refused before any GPU work", () => {
    const model = CLIPTextModel.fromConfig(TINY, { init: "meta" });
    assert.throws(() => model.forward(tensor(new Float32Array(77), [1, 77])), DTypeError);
    assert.throws(
      () => model.forward(tensor(new Int32Array(78), [1, 78], { dtype: "i32" })),
      (e: unknown) => e instanceof ShapeError && /1 ≤ length ≤ 77/.test(e.message),
    );
    assert.throws(() => model.forward(tensor(new Int32Array(77), [77], { dtype: "i32" })), ShapeError);
    assert.throws(() => model.forward(tensor(new Int32Array(77), [1, 77], { dtype: "i32" }), { clipSkip: 3 }), /from 0 to 2/);
  });

  test("clip skip gives the final LayerNorm of an earlier hidden state, whether or not later layers run", async () => {
    const model = CLIPTextModel.fromConfig(TINY, { seed: 7 });
    const ids = tensor(Int32Array.from(sdIds([[320, 1125, 539], [2368]])), [2, 77], { dtype: "i32" });
    const all = model.forward(ids, { outputHiddenStates: true });
    assert.equal(all.hiddenStates!.length, 4);
    for (const skip of [1, 2]) {
      const early = model.forward(ids, { clipSkip: skip });
      const viaStates = model.forward(ids, { clipSkip: skip, outputHiddenStates: true });
      const expected = model.text_model.final_layer_norm.forward(all.hiddenStates![3 - skip]);
      assertClose(await early.lastHiddenState.toArray(), await expected.toArray(), { atol: 1e-6, rtol: 1e-6 });
      assertClose(await viaStates.lastHiddenState.toArray(), await expected.toArray(), { atol: 1e-6, rtol: 1e-6 });
    }
    const plain = model.forward(ids);
    assertClose(await plain.lastHiddenState.toArray(), await model.text_model.final_layer_norm.forward(all.hiddenStates![3]).toArray(), {
      atol: 1e-6,
      rtol: 1e-6,
    });
    model.dispose();
  });

  test("pooling follows transformers: the largest id when eos_token_id is 2, else the first EOS", async () => {
    const ids = [
      [49406, 320, 49407, 49407, 5],
      [49406, 49408 - 1, 7, 7, 49407],
      [3, 9, 2, 9, 1],
    ];
    const t = tensor(Int32Array.from(ids.flat()), [3, 5], { dtype: "i32" });
    const legacy = CLIPTextModel.fromConfig({ ...TINY, max_position_embeddings: 5, eos_token_id: 2 }, { init: "meta" });
    const newer = CLIPTextModel.fromConfig({ ...TINY, max_position_embeddings: 5, eos_token_id: 7 }, { init: "meta" });
    assert.deepEqual([...(await legacy.poolingIndices(t).toArray())], [2, 1, 1]);
    assert.deepEqual([...(await newer.poolingIndices(t).toArray())], [0, 2, 0]);
  });

  test("pooledOutput is lastHiddenState at the pooled positions", async () => {
    const model = CLIPTextModel.fromConfig(TINY, { seed: 3 });
    const rows = [
      [320, 1125],
      [2368, 539, 320, 1929],
    ];
    const ids = tensor(Int32Array.from(sdIds(rows)), [2, 77], { dtype: "i32" });
    const { lastHiddenState, pooledOutput } = model.forward(ids);
    const hidden = await lastHiddenState.toArray();
    const expected = rows.flatMap((row, b) => [...hidden.slice((b * 77 + row.length + 1) * 16, (b * 77 + row.length + 2) * 16)]);
    assert.deepEqual([...(await pooledOutput.toArray())], expected);
    model.dispose();
  });

  test("an attention mask over trailing padding leaves the tokens before it unchanged", async () => {
    const model = CLIPTextModel.fromConfig(TINY, { seed: 11 });
    const ids = tensor(Int32Array.from(sdIds([[320, 1125, 539]])), [1, 77], { dtype: "i32" });
    const mask = tensor(
      Float32Array.from({ length: 77 }, (_, i) => (i < 5 ? 1 : 0)),
      [1, 77],
    );
    const ones = tensor(new Float32Array(77).fill(1), [1, 77]);
    const plain = await model.forward(ids).lastHiddenState.toArray();
    const masked = await model.forward(ids, { attentionMask: mask }).lastHiddenState.toArray();
    const allOnes = await model.forward(ids, { attentionMask: ones }).lastHiddenState.toArray();
    // the causal mask already hides later tokens from earlier ones
    assertClose(masked.slice(0, 5 * 16), plain.slice(0, 5 * 16), { atol: 1e-5, rtol: 1e-5 });
    assertClose(allOnes, plain, { atol: 1e-5, rtol: 1e-5 });
    const later = Math.max(...plain.slice(6 * 16).map((v, i) => Math.abs(v - masked[6 * 16 + i])));
    assert.ok(later > 1e-4, "padded positions see a different context");
    model.dispose();
  });

  test("forward frees every intermediate: with its outputs disposed, live memory is back where it began", async () => {
    const model = CLIPTextModel.fromConfig(TINY, { seed: 5 }).requiresGrad_(false);
    const ids = tensor(Int32Array.from(sdIds([[320], [1125, 539]])), [2, 77], { dtype: "i32" });
    const mask = tensor(new Float32Array(2 * 77).fill(1), [2, 77]);
    for (const options of [{}, { clipSkip: 1 }, { outputHiddenStates: true, attentionMask: mask }]) {
      const before = device.memory().liveBytes;
      const out = model.forward(ids, options);
      await out.pooledOutput.toArray();
      for (const t of [out.lastHiddenState, out.pooledOutput, ...(out.hiddenStates ?? [])]) t.dispose();
      assert.equal(device.memory().liveBytes, before, JSON.stringify(Object.keys(options)));
    }
    model.dispose();
  });

  test("gradients of the pooled output reach every parameter used (training the text tower)", async () => {
    const model = CLIPTextModel.fromConfig({ ...TINY, vocab_size: 50, max_position_embeddings: 6, eos_token_id: 7 }, { seed: 9 });
    const ids = tensor(Int32Array.from([1, 5, 7, 7, 3, 2, 8, 7, 7, 7, 7, 7]), [2, 6], { dtype: "i32" });
    backward(sum(model.forward(ids).pooledOutput));
    for (const [name, parameter] of model.namedParameters()) {
      const grad = await parameter.grad?.toArray();
      assert.ok(grad && grad.some((v) => v !== 0), `${name} got a gradient`);
    }
    model.dispose();
  });
});
