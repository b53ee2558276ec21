import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { readSafetensorsFile, toFloat32Array } from "@spo/safetensors/node";
import { backward, type Device, mul, randn, sum, type Tensor, tensor, tidy } from "@spo/wgpu-tensor";
import { assertClose, testDevice } from "@spo/wgpu-tensor/testing";
import { loadWeights } from "@spo/wgpu-tensor";
import { UNet2DConditionModel } from "./unet_2d_condition.ts";

const fixture = new URL("../test/fixtures/oracle/unet.safetensors", import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(new URL("../test/fixtures/oracle/unet.json", import.meta.url), "utf8"));
let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

async function gradientsAndPeak(isCheckpointing: boolean): Promise<{ grads: Float32Array[]; peak: number }> {
  await using reader = await readSafetensorsFile(fixture);
  const unet = UNet2DConditionModel.fromConfig(manifest.config, { init: "meta" }).setGradientCheckpointing(isCheckpointing);
  await loadWeights(unet, reader, { fileNameOf: (n) => `weights.${n}`, isRelevant: (n) => n.startsWith("weights.") });
  const input = async (name: string) => {
    const t = await reader.tensor(name);
    return tensor(toFloat32Array(t), t.shape);
  };
  const sample = await input("sample");
  const context = await input("encoder_hidden_states");
  const weights = randn([2, 4, 16, 16], { seed: 5 });
  await device.sync();
  device.pool.resetPeak();
  const base = device.memory().liveBytes;
  const loss = tidy(() => sum(mul(unet.forward(sample, [10, 500], context), weights)));
  backward(loss);
  await device.sync();
  const peak = device.memory().peakBytes - base;
  const params = unet.stateDict();
  const names = [
    "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight",
    "down_blocks.0.resnets.0.conv1.weight",
    "up_blocks.1.resnets.2.conv2.bias",
    "time_embedding.linear_1.weight",
  ];
  const grads = await Promise.all(names.map((n) => params.get(n)!.grad!.toArray() as Promise<Float32Array>));
  [sample, context, weights, loss].forEach((t: Tensor) => t.dispose());
  unet.dispose();
  return { grads, peak };
}

test("gradient checkpointing gives the same gradients with a lower peak memory", async () => {
  const plain = await gradientsAndPeak(false);
  const checkpointed = await gradientsAndPeak(true);
  plain.grads.forEach((g, i) => assertClose(checkpointed.grads[i], g, { atol: 1e-5, rtol: 1e-4 }, `gradient ${i}`));
  assert.ok(checkpointed.peak < plain.peak, `peak ${checkpointed.peak} B with checkpointing, ${plain.peak} B without`);
});
