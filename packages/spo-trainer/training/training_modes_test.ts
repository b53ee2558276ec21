// Training options that must not change the mathematics: gradient accumulation (two half
// minibatches at loss scale ½ give the gradient of the whole one), gradient checkpointing (same
// loss and gradients), and the Diffusion-DPO mode on the same loop (loss ln 2 at the start).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { injectLora } from "@spo/lora";
import { RandomGenerator, type Tensor } from "@spo/wgpu-tensor";
import { testDevice } from "@spo/wgpu-tensor/testing";
import type { SpoPair } from "../sampler/spo_sampler.ts";
import { sd15Scheduler, tinyUnet, tinyUnetConfig, wordPromptEncoder } from "../test/_tiny.ts";
import { UNet2DConditionModel } from "@spo/diffusion-unet";
import { spoMinibatchStep } from "./spo_step.ts";
import { SpoTrainer } from "./spo_trainer.ts";

let unet: ReturnType<typeof tinyUnet>;
before(async () => {
  await testDevice();
  unet = tinyUnet(8);
});
after(() => unet.dispose());

const SHAPE = [4, 8, 8];
const PROMPTS = ["a red circle", "a blue square", "a green dot", "two yellow stars"];

async function randomPairs(seed: number, count: number): Promise<SpoPair[]> {
  const g = new RandomGenerator(seed);
  const host = async () => Float32Array.from(await g.randn(SHAPE).toArray());
  const pairs: SpoPair[] = [];
  for (let i = 0; i < count; i++) {
    const sample = await host();
    // children near the parent, as DDIM steps make them
    const near = async () => Float32Array.from(await host(), (z, e) => 0.97 * sample[e] + 0.1 * z);
    pairs.push({
      sample,
      winner: await near(),
      loser: await near(),
      timestep: [751, 501, 101, 51][i % 4],
      prompt: PROMPTS[i % 4],
      step: 4 + i,
      scoreWin: 1,
      scoreLose: 0,
    });
  }
  return pairs;
}

async function grads(params: readonly Tensor[]): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const p of params) out.push(Float32Array.from(await p.grad!.toArray()));
  return out;
}

function assertGradsClose(a: Float32Array[], b: Float32Array[], what: string): void {
  const scale = Math.max(...a.map((g) => Math.max(...Array.from(g, Math.abs))));
  assert.ok(scale > 0, `${what}: the gradient is zero`);
  a.forEach((g, i) =>
    g.forEach((v, e) => assert.ok(Math.abs(v - b[i][e]) <= 1e-4 * scale, `${what}: parameter ${i}[${e}] ${v} vs ${b[i][e]}`)),
  );
}

describe("training modes", () => {
  it("accumulates two half minibatches into the gradient of the whole, and checkpointing changes nothing", async () => {
    const adapter = injectLora(unet, { rank: 4, init: "gaussian", targetModules: ["to_q", "to_k", "to_v", "to_out.0"], seed: 3 });
    // non-zero up-weights, so the policy differs from the reference
    for (const [name, p] of adapter.stateDict()) {
      if (name.endsWith("lora_B.weight"))
        adapter.loadStateDict(
          new Map([
            [name, { shape: [...p.shape], data: Float32Array.from({ length: p.size }, (_, i) => 0.05 * Math.sin(i + name.length)) }],
          ]),
          { strict: false },
        );
    }
    const params = adapter.parameters();
    const zero = () =>
      params.forEach((p) => {
        p.grad?.dispose();
        p.grad = null;
      });
    const pairs = await randomPairs(9, 4);
    const scheduler = sd15Scheduler();
    scheduler.setTimesteps(20);
    const models = { unet, scheduler, promptEncoder: wordPromptEncoder };
    const whole = await spoMinibatchStep(models, pairs, SHAPE);
    const wholeGrads = await grads(params);
    zero();
    const first = await spoMinibatchStep(models, pairs.slice(0, 2), SHAPE, { lossScale: 0.5 });
    const second = await spoMinibatchStep(models, pairs.slice(2), SHAPE, { lossScale: 0.5 });
    assert.ok(Math.abs((first.loss + second.loss) / 2 - whole.loss) < 1e-6);
    assertGradsClose(wholeGrads, await grads(params), "accumulated");
    zero();
    unet.setGradientCheckpointing(true);
    const checkpointed = await spoMinibatchStep(models, pairs, SHAPE);
    unet.setGradientCheckpointing(false);
    assert.ok(Math.abs(checkpointed.loss - whole.loss) < 1e-6);
    assertGradsClose(wholeGrads, await grads(params), "checkpointed");
    zero();
    adapter.remove();
  });

  it("trains an f32 LoRA over an f16 UNet (SPO's precision): ratios 1 at the start, gradients in f32", async () => {
    const half = UNet2DConditionModel.fromConfig(tinyUnetConfig(4), { seed: 8, dtype: "f16" });
    half.requiresGrad_(false);
    const adapter = injectLora(half, { rank: 4, init: "gaussian", targetModules: ["to_q", "to_k", "to_v", "to_out.0"], seed: 3 });
    const scheduler = sd15Scheduler();
    scheduler.setTimesteps(20);
    const stats = await spoMinibatchStep({ unet: half, scheduler, promptEncoder: wordPromptEncoder }, await randomPairs(5, 2), SHAPE);
    assert.equal(stats.loss, Math.fround(Math.LN2));
    assert.equal(stats.clamped, 0);
    const params = adapter.parameters();
    assert.ok(params.every((p) => p.dtype === "f32" && p.grad !== null && p.grad.dtype === "f32"));
    const upGrads = await grads(params.filter((_, i) => i % 2 === 1));
    assert.ok(
      upGrads.some((g) => g.some((v) => v !== 0)),
      "the up-weights receive gradient",
    );
    adapter.remove();
    half.dispose();
  });

  it("trains Diffusion-DPO on offline pairs with the same loop, starting from loss ln 2", async () => {
    const offline = (await randomPairs(4, 4)).map((p) => ({ prompt: p.prompt, winner: p.winner, loser: p.loser }));
    const trainer = await SpoTrainer.create(
      { unet, scheduler: sd15Scheduler(), promptEncoder: wordPromptEncoder },
      {
        method: "diffusion-dpo",
        epochs: 2,
        sampleBatchSize: 4,
        trainBatchSize: 2,
        latentShape: SHAPE,
        validationCount: 0,
        learningRate: 1e-3,
      },
      { pairs: offline },
    );
    await trainer.run();
    assert.equal(trainer.metrics.length, 4);
    assert.ok(Math.abs(trainer.metrics[0].loss - Math.LN2) < 1e-6, `${trainer.metrics[0].loss}`);
    assert.ok(trainer.metrics.every((m) => m.meanScore === null && m.pairsKept === 4 && Number.isFinite(m.loss)));
    assert.ok(trainer.metrics[3].loraNorm !== trainer.metrics[0].loraNorm);
    trainer.dispose();
  });
});
