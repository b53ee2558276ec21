/**
 * One SPO minibatch on a tiny UNet with f16 weights and activations moves the LoRA (f32
 * parameters, f32 gradients: PRECISION_RULES) like the same step with f32 weights.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { DDIMScheduler, SD15_SCHEDULER_CONFIG, UNet2DConditionModel } from "@spo/diffusion-unet";
import type { LoraAdapter } from "@spo/lora";
import { cast, type Device, RandomGenerator, randn, type Tensor } from "@spo/wgpu-tensor";
import { testDevice } from "@spo/wgpu-tensor/testing";
import type { SpoPair } from "../sampler/spo_sampler.ts";
import { hostNormal, randomLora } from "../test/_tiny.ts";
import { spoMinibatchStep } from "./spo_step.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device?.destroy());

const CONFIG = {
  sample_size: 8,
  in_channels: 4,
  out_channels: 4,
  block_out_channels: [32, 64],
  layers_per_block: 1,
  norm_num_groups: 32,
  cross_attention_dim: 16,
  attention_head_dim: 8,
  down_block_types: ["CrossAttnDownBlock2D", "DownBlock2D"],
  up_block_types: ["UpBlock2D", "CrossAttnUpBlock2D"],
};
const SHAPE = [4, 8, 8];

async function gradients(unet: UNet2DConditionModel, adapter: LoraAdapter, pairs: SpoPair[]) {
  const scheduler = DDIMScheduler.fromConfig(SD15_SCHEDULER_CONFIG);
  scheduler.setTimesteps(20);
  const promptEncoder = { encode: (prompts: readonly string[]) => randn([prompts.length, 5, 16], { seed: prompts[0] === "" ? 7 : 8 }) };
  const stats = await spoMinibatchStep({ unet, scheduler, promptEncoder }, pairs, SHAPE, { guidanceScale: 5 });
  const grads: Float32Array[] = [];
  for (const p of adapter.parameters()) {
    assert.equal(p.dtype, "f32", "LoRA parameters stay f32");
    assert.equal(p.grad?.dtype, "f32", "LoRA gradients are f32");
    grads.push(Float32Array.from(await p.grad!.toArray()));
  }
  return { stats, grads };
}

test("an SPO minibatch with f16 UNet weights gives the f32 loss and LoRA gradients within f16 rounding", async (t) => {
  if (!device.hasF16) return t.diagnostic("no shader-f16 on this adapter");
  const full = UNet2DConditionModel.fromConfig(CONFIG, { seed: 1 });
  const half = UNet2DConditionModel.fromConfig(CONFIG, { init: "meta", dtype: "f16" });
  const casts = new Map<string, Tensor>([...full.stateDict()].map(([name, value]) => [name, cast(value, "f16")]));
  half.loadStateDict(casts);
  casts.forEach((value) => value.dispose());
  const g = new RandomGenerator(5);
  const host = () => hostNormal(g, SHAPE);
  const pairs: SpoPair[] = [];
  for (let i = 0; i < 2; i++)
    pairs.push({
      sample: await host(),
      winner: await host(),
      loser: await host(),
      timestep: 501,
      prompt: `p${i}`,
      step: 10,
      scoreWin: 1,
      scoreLose: 0,
    });
  const a = await gradients(full, await randomLora(full, 0.1, 100), pairs);
  const b = await gradients(half, await randomLora(half, 0.1, 100), pairs);
  let diff = 0;
  let norm = 0;
  a.grads.forEach((ga, k) =>
    ga.forEach((v, i) => {
      diff += (v - b.grads[k]![i]!) ** 2;
      norm += v * v;
    }),
  );
  const relative = Math.sqrt(diff / norm);
  t.diagnostic(
    `loss f32 ${a.stats.loss} f16 ${b.stats.loss}; |Δgrad|/|grad| ${relative.toExponential(2)}; clamped ${a.stats.clamped} vs ${b.stats.clamped}`,
  );
  assert.ok(norm > 0, "the LoRA got a gradient");
  // Bound. The longest path of this UNet stores about L = 30 activations (per level 2 resnet convs,
  // 4 attention projections and the feed-forward, down and up); backward stores as many f16
  // gradients. Each is rounded once with relative error ≤ u = 2⁻¹¹ (kernels accumulate in f32; the
  // log-probability, the loss and the LoRA branch are f32), so to first order with unit-gain layers
  // the gradient's relative error is ≤ 2·(L + L)·u ≈ 0.059 (weights rounded too: the factor 2).
  // The loss is a smooth function of the same ε̂ and gets the same bound.
  const bound = 2 * (30 + 30) * 2 ** -11;
  assert.ok(relative <= bound, `relative gradient difference ${relative} > ${bound}`);
  assert.ok(Math.abs(a.stats.loss - b.stats.loss) <= bound * Math.abs(a.stats.loss), `loss ${b.stats.loss} vs ${a.stats.loss}`);
});
