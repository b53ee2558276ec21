// The prediction-type conversion (ε̂ and x̂₀ from an ε-, v- or x₀-predicting UNet) against a float64
// reference, and SPO's transition with a v-predicting UNet: a sampled child's log-prob is still
// −½·mean(z²) − log σ − log √(2π), and zero LoRA up-weights give ratios of exactly 1 and loss ln 2.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import fc from "fast-check";
import { DDIMScheduler, SD15_SCHEDULER_CONFIG } from "@spo/diffusion-unet";
import { injectLora, withAdaptersDisabled } from "@spo/lora";
import { noGrad, RandomGenerator } from "@spo/wgpu-tensor";
import { fcRuns, testDevice } from "@spo/wgpu-tensor/testing";
import { sampleChildren } from "../sampler/children.ts";
import { guidedEpsilon } from "../sampler/guided_denoiser.ts";
import { tinyUnet, wordPromptEncoder } from "../test/_tiny.ts";
import {
  epsilonFromOutput,
  PREDICTION_TYPES,
  PredictionTypeError,
  resolvePredictionType,
  sampleFromOutput,
  trainingTarget,
} from "./prediction_type.ts";
import { spoLoss } from "./spo_loss.ts";
import { transitionLogProb } from "./transition_log_prob.ts";

before(async () => {
  await testDevice();
});

/** float64 reference: ε̂ and x̂₀ of one element. */
function reference(type: string, a: number, out: number, x: number): { eps: number; x0: number } {
  const sa = Math.sqrt(a);
  const sb = Math.sqrt(1 - a);
  if (type === "epsilon") return { eps: out, x0: (x - sb * out) / sa };
  if (type === "v_prediction") return { eps: sa * out + sb * x, x0: sa * x - sb * out };
  return { eps: (x - sa * out) / sb, x0: out };
}

const arbCase = fc.record({
  type: fc.constantFrom(...PREDICTION_TYPES),
  alphas: fc.array(fc.double({ min: 0.01, max: 0.99, noNaN: true }), { minLength: 1, maxLength: 3 }),
  channels: fc.integer({ min: 1, max: 3 }),
  side: fc.integer({ min: 1, max: 4 }),
  seed: fc.integer({ min: 0, max: 2 ** 31 }),
});

describe("prediction types", () => {
  it("converts a model output to ε̂, x̂₀ and the training target like a float64 reference", async () => {
    await fc.assert(
      fc.asyncProperty(arbCase, async ({ type, alphas, channels, side, seed }) => {
        const batch = alphas.length;
        const schedule = { alphasCumprod: Float32Array.from(alphas) };
        const timesteps = alphas.map((_, i) => i);
        const size = channels * side * side;
        const random = new RandomGenerator(seed);
        const outT = random.randn([batch, channels, side, side]);
        const xT = random.randn([batch, channels, side, side]);
        const out = await outT.toArray();
        const x = await xT.toArray();
        const eps = epsilonFromOutput(schedule, type, outT, timesteps, xT);
        const x0 = sampleFromOutput(schedule, type, outT, timesteps, xT);
        // the target of a model of this type for x_t = √ᾱ·x₀ + √(1 − ᾱ)·ε with x₀ = x, ε = out
        const target = trainingTarget(schedule, type, xT, outT, timesteps);
        const [e, s, g] = [await eps.toArray(), await x0.toArray(), await target.toArray()];
        for (let b = 0; b < batch; b++) {
          const a = schedule.alphasCumprod[b];
          for (let i = b * size; i < (b + 1) * size; i++) {
            const want = reference(type, a, out[i], x[i]);
            const tol = (v: number) => 1e-5 * (1 + Math.abs(v)) * (type === "sample" ? 1 / Math.sqrt(1 - a) : 1 / Math.sqrt(a));
            assert.ok(Math.abs(e[i] - want.eps) <= tol(want.eps), `ε̂ ${e[i]} vs ${want.eps} (${type}, ᾱ ${a})`);
            assert.ok(Math.abs(s[i] - want.x0) <= tol(want.x0), `x̂₀ ${s[i]} vs ${want.x0} (${type}, ᾱ ${a})`);
            const noisy = Math.sqrt(a) * x[i] + Math.sqrt(1 - a) * out[i];
            const wantTarget = type === "epsilon" ? out[i] : type === "sample" ? x[i] : Math.sqrt(a) * out[i] - Math.sqrt(1 - a) * x[i];
            assert.ok(Math.abs(g[i] - wantTarget) <= 1e-5 * (1 + Math.abs(wantTarget)), `target (${type})`);
            // a model that outputs its target exactly at x_t recovers ε and x₀
            const back = reference(type, a, wantTarget, noisy);
            assert.ok(Math.abs(back.eps - out[i]) < 1e-9 && Math.abs(back.x0 - x[i]) < 1e-9);
          }
        }
        for (const t of new Set([outT, xT, eps, x0, target])) t.dispose();
      }),
      { numRuns: fcRuns(40) },
    );
  });

  it("reads the type from the scheduler config, defaults to epsilon, and rejects unknown or contradicting types", () => {
    const v = DDIMScheduler.fromConfig({ ...SD15_SCHEDULER_CONFIG, prediction_type: "v_prediction" });
    assert.equal(resolvePredictionType(undefined, v), "v_prediction");
    assert.equal(resolvePredictionType(undefined, { config: {} }), "epsilon");
    assert.equal(resolvePredictionType("sample"), "sample");
    assert.throws(
      () => resolvePredictionType("velocity"),
      (e: unknown) => e instanceof PredictionTypeError && e.predictionType === "velocity",
    );
    assert.throws(() => resolvePredictionType("epsilon", v), PredictionTypeError);
    assert.throws(() => resolvePredictionType(undefined, { config: { predictionType: 3 } }), PredictionTypeError);
  });

  it("with a v-predicting UNet: a child's log-prob is −½·mean(z²) − log σ − log √(2π); zero LoRA up-weights give ratios 1 and loss ln 2", async () => {
    const scheduler = DDIMScheduler.fromConfig({ ...SD15_SCHEDULER_CONFIG, prediction_type: "v_prediction" });
    scheduler.setTimesteps(10);
    const prediction = { schedule: scheduler, predictionType: resolvePredictionType(undefined, scheduler) };
    const unet = tinyUnet(3);
    const prompts = ["a red cat", "a blue dog"];
    const cond = wordPromptEncoder.encode(prompts);
    const uncond = wordPromptEncoder.encode(["", ""]);
    const random = new RandomGenerator(5);
    const parents = random.randn([2, 4, 8, 8]);
    for (const t of [scheduler.timesteps[0], scheduler.timesteps[5], scheduler.timesteps[9]]) {
      const ts = [t, t];
      const eps = noGrad(() => guidedEpsilon(unet, parents, ts, cond, uncond, 5, prediction));
      const { children, noise, mean, stdDevT } = sampleChildren(scheduler, eps, t, parents, 1, random);
      // the trainer recomputes ε̂ from the raw v̂ on its own
      const again = noGrad(() => guidedEpsilon(unet, parents, ts, cond, uncond, 5, prediction));
      const logp = await transitionLogProb(scheduler, again, ts, parents, children).toArray();
      const z = await noise.toArray();
      const size = z.length / 2;
      for (let b = 0; b < 2; b++) {
        let sq = 0;
        for (let i = b * size; i < (b + 1) * size; i++) sq += z[i] * z[i];
        const want = -0.5 * (sq / size) - Math.log(stdDevT[b]) - Math.log(Math.sqrt(2 * Math.PI));
        assert.ok(Math.abs(logp[b] - want) < 2e-3 * (1 + Math.abs(want)), `t ${t}: log-prob ${logp[b]} vs ${want}`);
      }
      for (const x of [eps, children, noise, mean, again]) x.dispose();
    }

    const adapter = injectLora(unet, { rank: 2, alpha: 2, init: "gaussian", targetModules: ["to_q", "to_k", "to_v", "to_out.0"], seed: 3 });
    const t = scheduler.timesteps[4];
    const ts = [t, t];
    const policyEps = guidedEpsilon(unet, parents, ts, cond, uncond, 5, prediction);
    const refEps = noGrad(() => withAdaptersDisabled(unet, () => guidedEpsilon(unet, parents, ts, cond, uncond, 5, prediction)));
    const winner = random.randn([2, 4, 8, 8]);
    const loser = random.randn([2, 4, 8, 8]);
    const out = spoLoss(scheduler, { policyEps, refEps, sample: parents, winner, loser, timesteps: ts });
    assert.deepEqual(Array.from(await out.rawRatioWin.toArray()), [1, 1]);
    assert.deepEqual(Array.from(await out.rawRatioLose.toArray()), [1, 1]);
    assert.ok(Math.abs((await out.loss.item()) - Math.LN2) < 1e-6);
    assert.ok(adapter.parameters().length > 0);
  });
});
