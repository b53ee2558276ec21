import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { backward, type Device, randn, ShapeError, sum, tensor, zeros } from "@spo/wgpu-tensor";
import { assertClose, testDevice } from "@spo/wgpu-tensor/testing";
import { CLIPVisionModel, CLIPVisionModelWithProjection } from "./clip_vision_model.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

/** openai/clip-vit-large-patch14's vision_config (the tower SPO's preference model starts from). */
const VIT_L_14 = {
  hidden_size: 1024,
  intermediate_size: 4096,
  num_attention_heads: 16,
  num_hidden_layers: 24,
  image_size: 224,
  patch_size: 14,
  projection_dim: 768,
  hidden_act: "quick_gelu",
};

describe("CLIPVisionModelWithProjection", () => {
  test("ViT-L/14 builds shape-only with 392 tensors and 303,966,208 parameters", () => {
    const model = CLIPVisionModelWithProjection.fromConfig(VIT_L_14, { init: "meta" });
    const named = new Map([...model.namedParameters()].map(([name, t]) => [name, [...t.shape]]));
    // embeddings 3 + pre_layrnorm 2 + 24 layers × 16 + post_layernorm 2 + projection 1
    assert.equal(named.size, 392);
    // class 1024 + patches 3·14²·1024 + positions 257·1024; per layer 4·(1024² + 1024) + 4·1024
    // + (1024·4096 + 4096) + (4096·1024 + 1024); two LayerNorms; projection 1024·768
    const perLayer = 4 * (1024 * 1024 + 1024) + 4 * 1024 + (1024 * 4096 + 4096) + (4096 * 1024 + 1024);
    const expected = 1024 + 3 * 14 * 14 * 1024 + 257 * 1024 + 2 * 1024 + 24 * perLayer + 2 * 1024 + 1024 * 768;
    assert.equal(model.parameterCount(), expected);
    assert.equal(expected, 303_966_208);
    assert.deepEqual(named.get("vision_model.embeddings.class_embedding"), [1024]);
    assert.deepEqual(named.get("vision_model.embeddings.patch_embedding.weight"), [1024, 3, 14, 14]);
    assert.equal(named.has("vision_model.embeddings.patch_embedding.bias"), false);
    assert.deepEqual(named.get("vision_model.embeddings.position_embedding.weight"), [257, 1024]);
    assert.deepEqual(named.get("vision_model.pre_layrnorm.weight"), [1024]);
    assert.deepEqual(named.get("vision_model.encoder.layers.23.mlp.fc1.weight"), [4096, 1024]);
    assert.deepEqual(named.get("vision_model.post_layernorm.bias"), [1024]);
    assert.deepEqual(named.get("visual_projection.weight"), [768, 1024]);
  });

  test("pixel values of another size or channel count are refused before any GPU work", () => {
    const model = CLIPVisionModel.fromConfig(
      { ...VIT_L_14, hidden_size: 32, intermediate_size: 8, num_attention_heads: 2, num_hidden_layers: 1 },
      { init: "meta" },
    );
    assert.throws(
      () => model.forward(zeros([1, 3, 112, 112])),
      (e: unknown) => e instanceof ShapeError && /expected \[batch, 3, 224, 224\]/.test(e.message),
    );
    assert.throws(() => model.forward(zeros([1, 1, 224, 224])), ShapeError);
  });

  test("the pooled class token sees every patch (no causal mask) and image embeds project it", async () => {
    const config = {
      hidden_size: 16,
      intermediate_size: 24,
      num_attention_heads: 2,
      num_hidden_layers: 2,
      image_size: 8,
      patch_size: 4,
      projection_dim: 6,
    };
    const model = CLIPVisionModelWithProjection.fromConfig(config, { seed: 5 });
    const base = new Float32Array(3 * 8 * 8);
    const changed = base.map((_, i) => (i % 8 >= 4 && Math.floor(i / 8) % 8 >= 4 ? 1 : 0)); // only the last patch
    const a = model.forward(tensor(base, [1, 3, 8, 8]), { outputHiddenStates: true });
    const b = model.forward(tensor(changed, [1, 3, 8, 8]));
    assert.deepEqual(a.lastHiddenState.shape, [1, 5, 16]);
    assert.equal(a.hiddenStates!.length, 3);
    const pooledA = await a.pooledOutput.toArray();
    const pooledB = await b.pooledOutput.toArray();
    assert.ok(
      pooledA.some((v, i) => Math.abs(v - pooledB[i]) > 1e-4),
      "the last patch reaches the class token",
    );
    assertClose(await a.imageEmbeds.toArray(), await model.visual_projection.forward(a.pooledOutput).toArray(), { atol: 1e-6, rtol: 1e-6 });
    model.dispose();
  });

  test("gradients of the image embeds reach every parameter, the class token and patch conv included", async () => {
    const config = {
      hidden_size: 16,
      intermediate_size: 24,
      num_attention_heads: 2,
      num_hidden_layers: 2,
      image_size: 8,
      patch_size: 4,
      projection_dim: 6,
    };
    const model = CLIPVisionModelWithProjection.fromConfig(config, { seed: 6 });
    backward(sum(model.forward(randn([2, 3, 8, 8], { seed: 1 })).imageEmbeds));
    for (const [name, parameter] of model.namedParameters()) {
      const grad = await parameter.grad?.toArray();
      assert.ok(grad && grad.some((v) => v !== 0), `${name} got a gradient`);
    }
    model.dispose();
  });
});
