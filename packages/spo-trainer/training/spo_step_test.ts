/**
 * One SPO minibatch when the policy has moved far from the reference: children that the policy
 * explains far better than the reference (log-ratios past f32's e^88) give a finite loss and no
 * gradient, while a NaN in the inputs still reports a NaN loss (the trainer stops on it).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { withAdaptersDisabled } from "@spo/lora";
import { add, type Device, mul, noGrad, RandomGenerator, randn, sub, tensor } from "@spo/wgpu-tensor";
import { testDevice } from "@spo/wgpu-tensor/testing";
import { transitionLogProb, transitionMean } from "../losses/transition_log_prob.ts";
import { guidedEpsilon } from "../sampler/guided_denoiser.ts";
import type { SpoPair } from "../sampler/spo_sampler.ts";
import { hostNormal, randomLora, sd15Scheduler, tinyUnet, wordPromptEncoder } from "../test/_tiny.ts";
import { spoMinibatchStep } from "./spo_step.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device?.destroy());

const SHAPE = [4, 8, 8];

/** Two pairs at `timestep`, every latent N(0, 1). */
async function pairsAt(timestep: number, seed: number): Promise<SpoPair[]> {
  const g = new RandomGenerator(seed);
  const host = () => hostNormal(g, SHAPE);
  const pairs: SpoPair[] = [];
  for (const prompt of ["red circle", "blue square"])
    pairs.push({ sample: await host(), winner: await host(), loser: await host(), timestep, prompt, step: 19, scoreWin: 1, scoreLose: 0 });
  return pairs;
}

test("children drawn from a policy far from the reference give a finite loss, every ratio clamped and no gradient", async () => {
  // the trainer samples its children from the policy: once the LoRA has moved, the policy can explain
  // them far better than the reference at late steps (σ ≈ 0.02), and the ratio passes f32's e^88
  const unet = tinyUnet();
  const adapter = await randomLora(unet, 8, 300);
  const scheduler = sd15Scheduler();
  scheduler.setTimesteps(20);
  const pairs = await pairsAt(1, 5);
  const rows = pairs.length;
  const { winners, losers, logRatios } = await noGrad(async () => {
    const sample = tensor(Float32Array.from(pairs.flatMap((p) => [...p.sample])), [rows, ...SHAPE]);
    const cond = wordPromptEncoder.encode(pairs.map((p) => p.prompt));
    const uncond = wordPromptEncoder.encode(pairs.map(() => ""));
    const eps = () => guidedEpsilon(unet, sample, [1, 1], cond, uncond, 5);
    const policyEps = eps();
    const referenceEps = withAdaptersDisabled(unet, eps);
    const { mean, stdDevT } = transitionMean(scheduler, policyEps, [1, 1], sample);
    const { mean: referenceMean } = transitionMean(scheduler, referenceEps, [1, 1], sample);
    // μ_θ + 50·(μ_θ − μ_ref) + σ·z: the log-ratio is about (1 + 2·50)·mean((μ_θ − μ_ref)²)/(2σ²)
    const away = mul(sub(mean, referenceMean), 50);
    const child = (seed: number) => add(add(mean, away), mul(randn(mean.shape, { seed }), stdDevT[0]!));
    const winner = child(21);
    const loser = child(22);
    const ratio = sub(
      transitionLogProb(scheduler, policyEps, [1, 1], sample, winner),
      transitionLogProb(scheduler, referenceEps, [1, 1], sample, winner),
    );
    return { winners: await winner.toArray(), losers: await loser.toArray(), logRatios: Array.from(await ratio.toArray()) };
  });
  assert.ok(
    logRatios.some((d) => d > 88),
    `log-ratios ${logRatios}: the case must pass e^88`,
  );
  const plane = winners.length / rows;
  pairs.forEach((p, b) => {
    p.winner = Float32Array.from(winners.subarray(b * plane, (b + 1) * plane));
    p.loser = Float32Array.from(losers.subarray(b * plane, (b + 1) * plane));
  });

  const stats = await spoMinibatchStep({ unet, scheduler, promptEncoder: wordPromptEncoder }, pairs, SHAPE, { guidanceScale: 5 });
  assert.ok(Number.isFinite(stats.loss), `loss ${stats.loss}`);
  assert.equal(stats.clamped, stats.ratios, "every ratio is outside the clip");
  for (const p of adapter.parameters()) {
    const grad = await p.grad!.toArray();
    assert.ok(
      grad.every((g) => g === 0),
      "clamped ratios send no gradient",
    );
  }
  adapter.remove();
});

test("a NaN in a child still gives a NaN loss", async () => {
  const unet = tinyUnet();
  const adapter = await randomLora(unet, 0.1, 300);
  const scheduler = sd15Scheduler();
  scheduler.setTimesteps(20);
  const pairs = await pairsAt(501, 6);
  pairs[1]!.loser[3] = Number.NaN;
  const stats = await spoMinibatchStep({ unet, scheduler, promptEncoder: wordPromptEncoder }, pairs, SHAPE, { guidanceScale: 5 });
  assert.ok(Number.isNaN(stats.loss), `loss ${stats.loss}`);
  adapter.remove();
});
