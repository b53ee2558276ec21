import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CLIPTextModel, type CLIPTokenizer, loadDefaultClipTokenizer } from "@spo/clip/node";
import { type Device, tensor, tidy } from "@spo/wgpu-tensor";
import { testDevice } from "@spo/wgpu-tensor/testing";
import { TINY_TEXT_CONFIG } from "../test/_tiny_model_node.ts";
import { encodePrompts, tokenizePrompts } from "./prompt_encoder.ts";

let device: Device;
let tokenizer: CLIPTokenizer;
let textEncoder: CLIPTextModel;

before(async () => {
  device = await testDevice();
  tokenizer = await loadDefaultClipTokenizer();
  textEncoder = CLIPTextModel.fromConfig(TINY_TEXT_CONFIG);
  // The default init gives the final LayerNorm bias 0, so the output's mean is ≈ 0 and the ratio
  // mean(z)/mean(z·w) is ill-conditioned; real CLIP's bias is not 0. A bias of 0.5 makes it stable.
  const bias = { shape: [TINY_TEXT_CONFIG.hidden_size], data: new Float32Array(TINY_TEXT_CONFIG.hidden_size).fill(0.5) };
  textEncoder.loadStateDict({ "text_model.final_layer_norm.bias": bias }, { strict: false });
});

after(() => {
  textEncoder?.dispose();
  device?.destroy();
});

describe("encodePrompts", () => {
  test("keeps no buffer once its context is freed, even with a text encoder whose weights require gradients", async () => {
    textEncoder.requiresGrad_(true);
    const encode = () => tidy(() => void encodePrompts(textEncoder, tokenizer, ["a (red:1.5) cat BREAK a dog"], { minChunks: 2 }));
    encode(); // the first call may make lasting state (pipelines, uniforms), none of it in the pool's live count
    await device.sync();
    const before = device.memory();
    for (let i = 0; i < 3; i++) encode();
    await device.sync();
    const after = device.memory();
    assert.deepEqual([after.liveBuffers, after.liveBytes], [before.liveBuffers, before.liveBytes]);
  });

  test("weights each token's embedding and restores the chunk's original mean (A1111 'Original' emphasis)", async () => {
    const prompt = "a (red:1.5) cat, [blurry] BREAK (dog:0.7)";
    const { chunks } = tokenizePrompts(tokenizer, [prompt]);
    const { context, chunkCount } = encodePrompts(textEncoder, tokenizer, [prompt]);
    const width = TINY_TEXT_CONFIG.hidden_size;
    assert.deepEqual(context.shape, [1, 77 * chunkCount, width]);
    const got = await context.toArray();
    context.dispose();
    for (const [i, [chunk]] of chunks.entries()) {
      // reference on the host: z from the unweighted encoder, then z·w·mean(z)/mean(z·w)
      const z = textEncoder.forward(tensor(Int32Array.from(chunk!.ids), [1, 77], { dtype: "i32" })).lastHiddenState;
      const raw = await z.toArray();
      z.dispose();
      let sum = 0;
      let weightedSum = 0;
      for (let t = 0; t < 77; t++) {
        for (let d = 0; d < width; d++) {
          sum += raw[t * width + d]!;
          weightedSum += raw[t * width + d]! * chunk!.weights[t]!;
        }
      }
      const ratio = sum / weightedSum;
      for (let t = 0; t < 77; t++) {
        for (let d = 0; d < width; d++) {
          const expected = raw[t * width + d]! * chunk!.weights[t]! * ratio;
          const actual = got[(i * 77 + t) * width + d]!;
          // f32 means over 77·16 values: relative error of a few ulps per sum
          assert.ok(
            Math.abs(actual - expected) <= 1e-4 * (1 + Math.abs(expected)),
            `chunk ${i} token ${t} dim ${d}: ${actual} vs ${expected}`,
          );
        }
      }
    }
  });

  test("a negative prompt padded to the positive prompt's chunk count has the same context length", () => {
    const positive = encodePrompts(textEncoder, tokenizer, ["a BREAK b BREAK c"]);
    const negative = encodePrompts(textEncoder, tokenizer, [""], { minChunks: positive.chunkCount });
    assert.deepEqual(negative.context.shape, positive.context.shape);
    assert.equal(positive.chunkCount, 3);
    positive.context.dispose();
    negative.context.dispose();
  });
});
