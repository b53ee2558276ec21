// The transition log-prob and the clipped loss against the sampler's own draws: the children of one
// parent share the Gaussian mean, a child's log-prob under the ε̂ that drew it is
// −½·mean(z²) − log σ − log √(2π), and the clamp stops the gradient outside [1 − ε, 1 + ε].
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import fc from "fast-check";
import { backward, mul, narrow, RandomGenerator, sub, tensor } from "@spo/wgpu-tensor";
import { fcRuns, testDevice } from "@spo/wgpu-tensor/testing";
import { sd15Scheduler } from "../test/_tiny.ts";
import { sampleChildren } from "../sampler/children.ts";
import { spoLoss } from "./spo_loss.ts";
import { spoPreviousTimestep, transitionCoefficients, transitionLogProb } from "./transition_log_prob.ts";

before(async () => {
  await testDevice();
});

const scheduler = sd15Scheduler();
scheduler.setTimesteps(20);
const TIMESTEPS = scheduler.timesteps;
const arbCase = fc.record({
  batch: fc.integer({ min: 1, max: 3 }),
  k: fc.integer({ min: 1, max: 4 }),
  channels: fc.integer({ min: 1, max: 4 }),
  side: fc.integer({ min: 1, max: 5 }),
  step: fc.integer({ min: 0, max: TIMESTEPS.length - 1 }),
  seed: fc.integer({ min: 0, max: 2 ** 31 }),
});

function seeded(shape: number[], seed: number, scale = 1) {
  return mul(new RandomGenerator(seed).randn(shape), scale);
}

describe("SPO's DDIM transition", () => {
  it("clamps the previous timestep to [0, T − 1]: t = 1 lands on ᾱ₀, not on the final ᾱ", () => {
    assert.equal(spoPreviousTimestep(scheduler, 1), 0);
    assert.equal(spoPreviousTimestep(scheduler, 951), 901);
    const last = transitionCoefficients(scheduler, 1);
    assert.equal(last.sqrtAlphaProdTPrev, Math.fround(Math.sqrt(scheduler.alphasCumprod[0])));
    assert.throws(() => transitionCoefficients(scheduler, 1000), /timestep 1000/);
    assert.throws(() => transitionCoefficients(scheduler, 51, 0), /eta 0/);
  });

  it("gives k children of a parent the same mean and each child the log-prob −½·mean(z²) − log σ − log √(2π)", async () => {
    await fc.assert(
      fc.asyncProperty(arbCase, async ({ batch, k, channels, side, step, seed }) => {
        const shape = [batch, channels, side, side];
        const t = TIMESTEPS[step];
        const parents = seeded(shape, seed);
        const eps = seeded(shape, seed + 1);
        const { children, noise, mean, stdDevT } = sampleChildren(scheduler, eps, t, parents, k, new RandomGenerator(seed + 2));
        const size = channels * side * side;
        const c = await children.toArray();
        const z = await noise.toArray();
        const mu = await mean.toArray();
        for (let j = 0; j < k; j++) {
          for (let b = 0; b < batch; b++) {
            for (let e = 0; e < size; e++) {
              const recovered = c[(j * batch + b) * size + e] - stdDevT[b] * z[(j * batch + b) * size + e];
              assert.ok(
                Math.abs(recovered - mu[b * size + e]) <= 2e-6 * (1 + Math.abs(mu[b * size + e])),
                `child ${j} of parent ${b}: mean ${recovered} vs ${mu[b * size + e]}`,
              );
            }
          }
        }
        // log-prob of every child under the ε̂ that produced it
        for (let j = 0; j < k; j++) {
          const child = narrow(children, 0, j * batch, batch);
          const lp = await transitionLogProb(scheduler, eps, new Array<number>(batch).fill(t), parents, child).toArray();
          for (let b = 0; b < batch; b++) {
            let sumSq = 0;
            for (let e = 0; e < size; e++) sumSq += z[(j * batch + b) * size + e] ** 2;
            const want = -0.5 * (sumSq / size) - Math.log(stdDevT[b]) - 0.5 * Math.log(2 * Math.PI);
            // (x − μ)/σ recovers z up to f32 rounding of μ relative to σ
            const allowed = 1e-4 + 1e-4 * Math.abs(want) + (2e-6 / stdDevT[b]) ** 2 * 10;
            assert.ok(Math.abs(lp[b] - want) <= allowed, `t ${t}: log-prob ${lp[b]} vs ${want}`);
          }
        }
        for (const x of [parents, eps, children, noise, mean]) x.dispose();
      }),
      { numRuns: fcRuns(6) },
    );
  });

  it("sends no gradient through a ratio clamped outside [0.9, 1.1], and some through ratios inside", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 2, max: 6 }), async (seed, batch) => {
        const shape = [batch, 2, 3, 3];
        const timesteps = Array.from({ length: batch }, (_, b) => TIMESTEPS[(seed + 3 * b) % TIMESTEPS.length]);
        const sample = seeded(shape, seed);
        const refEps = seeded(shape, seed + 1);
        const winner = seeded(shape, seed + 2, 0.5);
        const loser = seeded(shape, seed + 3, 0.5);
        // policy = reference + a per-row perturbation from tiny (inside) to large (clamped)
        const scales = Float32Array.from({ length: batch }, (_, b) => (b % 2 === 0 ? 1e-4 : 0.5));
        const offset = mul(seeded(shape, seed + 4), tensor(scales, [batch, 1, 1, 1]));
        const policyEps = sub(refEps, offset);
        policyEps.requiresGrad = true;
        const out = spoLoss(scheduler, { policyEps, refEps, sample, winner, loser, timesteps });
        backward(out.loss);
        const grad = await policyEps.grad!.toArray();
        const rw = await out.rawRatioWin.toArray();
        const rl = await out.rawRatioLose.toArray();
        const size = grad.length / batch;
        const inside = (r: number) => r >= Math.fround(0.9) && r <= Math.fround(1.1);
        for (let b = 0; b < batch; b++) {
          const rowMax = Math.max(...Array.from(grad.subarray(b * size, (b + 1) * size), Math.abs));
          if (!inside(rw[b]) && !inside(rl[b]))
            assert.equal(rowMax, 0, `row ${b}: ratios ${rw[b]}, ${rl[b]} are clamped yet the gradient is ${rowMax}`);
          if (inside(rw[b]) && inside(rl[b]) && Math.abs(rw[b] - rl[b]) > 1e-6)
            assert.ok(rowMax > 0, `row ${b}: ratios inside, gradient zero`);
        }
        for (const x of [sample, refEps, winner, loser, offset, policyEps, policyEps.grad!, ...Object.values(out)]) x.dispose();
      }),
      { numRuns: fcRuns(5) },
    );
  });
});
