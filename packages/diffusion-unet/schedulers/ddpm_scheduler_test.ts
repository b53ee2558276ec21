import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import type { Device } from "@spo/wgpu-tensor";
import { fcRuns, testDevice } from "@spo/wgpu-tensor/testing";
import { arbLatentShape, assertNear, randomTensor, read, SD15 } from "./_testing.ts";
import { DDPMScheduler } from "./ddpm_scheduler.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

const DDPM_CONFIG = { ...SD15, steps_offset: 0 };

/**
 * diffusers computes β_t = 1 − ᾱ_t/ᾱ_{t−1} in float32: the ratio's rounding (2⁻²⁴) becomes a
 * relative error of about 2⁻²⁴/β_t in β_t (7e-5 for SD1.5's smallest β); allow 8 of those.
 */
function betaTolerance(beta: number): number {
  return (8 * 2 ** -24) / beta;
}

describe("DDPMScheduler", () => {
  test("step() over consecutive timesteps has the posterior mean of Ho et al. eq. 7 and σ² = β̃_t", async () => {
    const scheduler = DDPMScheduler.fromConfig(DDPM_CONFIG);
    await fc.assert(
      fc.asyncProperty(arbLatentShape, fc.integer({ min: 1, max: 999 }), fc.integer(), async (shape, t, seed) => {
        const x = randomTensor(shape, seed);
        const eps = randomTensor(shape, seed + 1);
        const alphaBar = scheduler.alphasCumprod[t];
        const alphaBarPrev = scheduler.alphasCumprod[t - 1];
        const beta = 1 - alphaBar / alphaBarPrev;
        const c0 = (Math.sqrt(alphaBarPrev) * beta) / (1 - alphaBar);
        const ct = (Math.sqrt(1 - beta) * (1 - alphaBarPrev)) / (1 - alphaBar);
        const x0 = x.data.map((v, i) => (v - Math.sqrt(1 - alphaBar) * eps.data[i]) / Math.sqrt(alphaBar));
        const out = scheduler.step(eps.tensor, t, x.tensor, { noise: randomTensor(shape, seed + 2).tensor });
        assertNear(
          await read(out.prevSampleMean),
          x0.map((v, i) => c0 * v + ct * x.data[i]),
          2e-5,
          1e-4,
          `μ̃ at t=${t}`,
        );
        const variance = ((1 - alphaBarPrev) / (1 - alphaBar)) * beta;
        assert.ok(Math.abs(out.stdDevT ** 2 - variance) <= betaTolerance(beta) * variance, `σ² ${out.stdDevT ** 2} vs ${variance}`);
      }),
      { numRuns: fcRuns(12) },
    );
  });

  test("noise is needed where t > 0 and never added at t = 0", async () => {
    const scheduler = DDPMScheduler.fromConfig(DDPM_CONFIG);
    scheduler.setTimesteps(1000);
    const x = randomTensor([1, 4, 3, 3], 1).tensor;
    const eps = randomTensor([1, 4, 3, 3], 2).tensor;
    const last = scheduler.step(eps, 0, x);
    assert.equal(last.prevSample, last.prevSampleMean);
    assert.equal(last.stdDevT, 0);
    assert.throws(() => scheduler.step(eps, 5, x), /step DDPMScheduler at timestep 5: it adds noise/);
  });

  test("fixed_small_log gives the same σ as fixed_small and fixed_large gives σ² = β_t", () => {
    const small = DDPMScheduler.fromConfig(DDPM_CONFIG);
    const smallLog = DDPMScheduler.fromConfig({ ...DDPM_CONFIG, variance_type: "fixed_small_log" });
    const large = DDPMScheduler.fromConfig({ ...DDPM_CONFIG, variance_type: "fixed_large" });
    for (const t of [1, 10, 500, 999]) {
      const sigma = small.stepCoefficients(t).stdDevT;
      const sigmaFromLog = smallLog.stepCoefficients(t).stdDevT;
      // exp(½·log σ²) in float32: a few ulps of σ
      assert.ok(Math.abs(sigmaFromLog - sigma) <= 1e-6 * sigma, `t=${t}: σ ${sigmaFromLog} vs ${sigma}`);
      const beta = large.betas[t];
      const sigmaLarge = large.stepCoefficients(t).stdDevT;
      assert.ok(Math.abs(sigmaLarge ** 2 - beta) <= betaTolerance(beta) * beta, `t=${t}: σ² ${sigmaLarge ** 2} vs β ${beta}`);
    }
  });

  test("previousTimestep is t − T/n after setTimesteps and t − 1 before", () => {
    const scheduler = DDPMScheduler.fromConfig(SD15);
    assert.equal(scheduler.previousTimestep(500), 499);
    assert.equal(scheduler.timesteps.length, 1000);
    scheduler.setTimesteps(20);
    assert.equal(scheduler.previousTimestep(951), 901);
    assert.deepEqual(scheduler.timesteps.slice(0, 3), [951, 901, 851]);
  });
});
