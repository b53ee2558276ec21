import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { type Device, RandomGenerator, tensor } from "@spo/wgpu-tensor";
import { fcRuns, testDevice } from "@spo/wgpu-tensor/testing";
import { arbLatentShape, assertNear, randomTensor, read, SD15 } from "./_testing.ts";
import { DDIMScheduler } from "./ddim_scheduler.ts";
import { DDPMScheduler } from "./ddpm_scheduler.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

/** A step count and a position in its timesteps (leading + offset 1 is valid up to 999 steps). */
const arbStep = fc.record({ steps: fc.integer({ min: 1, max: 500 }), position: fc.nat() });

describe("DDIMScheduler", () => {
  test("step() with eta 0 is deterministic: the same inputs give the same bits", async () => {
    await fc.assert(
      fc.asyncProperty(arbLatentShape, arbStep, fc.integer(), async (shape, { steps, position }, seed) => {
        const scheduler = DDIMScheduler.fromConfig(SD15);
        scheduler.setTimesteps(steps);
        const t = scheduler.timesteps[position % steps];
        const x = randomTensor(shape, seed).tensor;
        const eps = randomTensor(shape, seed + 1).tensor;
        const first = await read(scheduler.step(eps, t, x).prevSample);
        const second = await read(scheduler.step(eps, t, x).prevSample);
        assert.deepEqual(first, second);
      }),
      { numRuns: fcRuns(6) },
    );
  });

  test("step() with eta 0 is affine in (x_t, ε̂) with DDIM's coefficients, and x_t can be recovered", async () => {
    await fc.assert(
      fc.asyncProperty(arbLatentShape, arbStep, fc.integer(), async (shape, { steps, position }, seed) => {
        const scheduler = DDIMScheduler.fromConfig(SD15);
        scheduler.setTimesteps(steps);
        const t = scheduler.timesteps[position % steps];
        const prev = t - Math.floor(1000 / steps);
        // independent f64 coefficients from the ᾱ table
        const alphaT = scheduler.alphasCumprod[t];
        const alphaPrev = prev >= 0 ? scheduler.alphasCumprod[prev] : scheduler.alphasCumprod[0];
        const a = Math.sqrt(alphaPrev / alphaT);
        const b = Math.sqrt(1 - alphaPrev) - (Math.sqrt(alphaPrev) * Math.sqrt(1 - alphaT)) / Math.sqrt(alphaT);
        const x = randomTensor(shape, seed);
        const eps = randomTensor(shape, seed + 1);
        const out = scheduler.step(eps.tensor, t, x.tensor, { eta: 0 });
        assert.equal(out.prevSample, out.prevSampleMean);
        assert.equal(out.stdDevT, 0);
        const mean = await read(out.prevSampleMean);
        const want = x.data.map((xi, i) => a * xi + b * eps.data[i]);
        assertNear(mean, want, 2e-5, 2e-5, `μ at t=${t}`);
        const recovered = mean.map((m, i) => (m - b * eps.data[i]) / a);
        assertNear(recovered, x.data, 5e-5, 5e-5, `x_t recovered at t=${t}`);
      }),
      { numRuns: fcRuns(12) },
    );
  });

  test("step() with eta 1 over consecutive timesteps has DDPM's posterior mean and standard deviation", async () => {
    const config = { ...SD15, set_alpha_to_one: true, steps_offset: 0 };
    const ddim = DDIMScheduler.fromConfig(config);
    const ddpm = DDPMScheduler.fromConfig(config);
    ddim.setTimesteps(1000);
    ddpm.setTimesteps(1000);
    await fc.assert(
      fc.asyncProperty(arbLatentShape, fc.integer({ min: 1, max: 999 }), fc.integer(), async (shape, t, seed) => {
        const x = randomTensor(shape, seed).tensor;
        const eps = randomTensor(shape, seed + 1).tensor;
        const z = randomTensor(shape, seed + 2);
        const fromDdim = ddim.step(eps, t, x, { eta: 1, noise: z.tensor });
        const fromDdpm = ddpm.step(eps, t, x, { noise: z.tensor });
        assert.ok(Math.abs(fromDdim.stdDevT - fromDdpm.stdDevT) <= 1e-6 * fromDdpm.stdDevT, `σ ${fromDdim.stdDevT} vs ${fromDdpm.stdDevT}`);
        assert.ok(Math.abs(ddim.getVariance(t) - ddpm.getVariance(t)) <= 1e-6 * ddpm.getVariance(t));
        const mean = await read(fromDdim.prevSampleMean);
        assertNear(mean, await read(fromDdpm.prevSampleMean), 1e-5, 1e-4, `μ at t=${t}`);
        const noisePart = (await read(fromDdim.prevSample)).map((v, i) => v - mean[i]);
        assertNear(
          noisePart,
          z.data.map((zi) => fromDdim.stdDevT * zi),
          1e-6,
          1e-4,
          `σ·z at t=${t}`,
        );
      }),
      { numRuns: fcRuns(12) },
    );
  });

  test("step() with one timestep per row steps each row as if alone", async () => {
    const scheduler = DDIMScheduler.fromConfig(SD15);
    scheduler.setTimesteps(20);
    const shape = [2, 4, 3, 5];
    const x = randomTensor(shape, 1).tensor;
    const eps = randomTensor(shape, 2).tensor;
    const z = randomTensor(shape, 3).tensor;
    const both = scheduler.step(eps, [951, 51], x, { eta: 1, noise: z });
    const first = await read(scheduler.step(eps, 951, x, { eta: 1, noise: z }).prevSample);
    const second = await read(scheduler.step(eps, 51, x, { eta: 1, noise: z }).prevSample);
    const rows = await read(both.prevSample);
    const half = rows.length / 2;
    assert.deepEqual(rows.subarray(0, half), first.subarray(0, half));
    assert.deepEqual(rows.subarray(half), second.subarray(half));
    assert.deepEqual(both.stdDevT, [scheduler.stepCoefficients(951, 1).stdDevT, scheduler.stepCoefficients(51, 1).stdDevT]);
  });

  test("stepDistribution() gives step()'s μ, x̂₀ and σ_t without needing noise", async () => {
    const scheduler = DDIMScheduler.fromConfig(SD15);
    scheduler.setTimesteps(20);
    const shape = [3, 4, 3, 3];
    const x = randomTensor(shape, 1).tensor;
    const eps = randomTensor(shape, 2).tensor;
    const z = randomTensor(shape, 3).tensor;
    const timesteps = [951, 51, 1];
    const distribution = scheduler.stepDistribution(eps, timesteps, x, { eta: 1 });
    const stepped = scheduler.step(eps, timesteps, x, { eta: 1, noise: z });
    assert.deepEqual(await read(distribution.prevSampleMean), await read(stepped.prevSampleMean));
    assert.deepEqual(await read(distribution.predOriginalSample), await read(stepped.predOriginalSample));
    assert.deepEqual(distribution.stdDevT, stepped.stdDevT);
    assert.ok(distribution.stdDevT.every((sigma) => sigma > 0));
  });

  test("addNoise() with zero noise gives √ᾱ_t·x per row, for host and tensor timesteps", async () => {
    const scheduler = DDIMScheduler.fromConfig(SD15);
    await fc.assert(
      fc.asyncProperty(
        arbLatentShape,
        fc.integer(),
        fc.array(fc.integer({ min: 0, max: 999 }), { minLength: 3, maxLength: 3 }),
        async (shape, seed, ts) => {
          const batch = shape[0];
          const timesteps = ts.slice(0, batch);
          const x = randomTensor(shape, seed);
          const zero = randomTensor(shape, seed, 0).tensor;
          const rowSize = x.data.length / batch;
          const want = x.data.map((v, i) => Math.sqrt(scheduler.alphasCumprod[timesteps[Math.floor(i / rowSize)]]) * v);
          assertNear(await read(scheduler.addNoise(x.tensor, zero, timesteps)), want, 1e-7, 1e-6, "host timesteps");
          const asI32 = tensor(Int32Array.from(timesteps), [batch], { dtype: "i32" });
          assertNear(await read(scheduler.addNoise(x.tensor, zero, asI32)), want, 1e-7, 1e-6, "i32 tensor timesteps");
          const asF32 = tensor(Float32Array.from(timesteps), [batch]);
          assertNear(await read(scheduler.addNoise(x.tensor, zero, asF32)), want, 1e-7, 1e-6, "f32 tensor timesteps");
          const noiseOnly = await read(scheduler.addNoise(zero, x.tensor, timesteps[0]));
          assertNear(
            noiseOnly,
            x.data.map((v) => Math.sqrt(1 - scheduler.alphasCumprod[timesteps[0]]) * v),
            1e-7,
            1e-6,
            "x₀ = 0",
          );
        },
      ),
      { numRuns: fcRuns(8) },
    );
  });

  test("epsilon, v_prediction and sample outputs that agree give the same step", async () => {
    const shape = [2, 4, 4, 4];
    const x0 = randomTensor(shape, 10);
    const eps = randomTensor(shape, 11).tensor;
    for (const t of [951, 501, 51, 1]) {
      const schedulers = (["epsilon", "v_prediction", "sample"] as const).map((type) =>
        DDIMScheduler.fromConfig({ ...SD15, prediction_type: type }),
      );
      schedulers.forEach((s) => s.setTimesteps(20));
      const xt = schedulers[0].addNoise(x0.tensor, eps, t);
      const outputs = [eps, schedulers[0].getVelocity(x0.tensor, eps, t), x0.tensor];
      const steps = schedulers.map((s, k) => s.step(outputs[k], t, xt, { eta: 0 }));
      const reference = await read(steps[0].prevSample);
      for (const [k, step] of steps.entries()) {
        assertNear(await read(step.predOriginalSample), x0.data, 2e-4, 2e-4, `x̂₀ of prediction ${k} at t=${t}`);
        assertNear(await read(step.prevSample), reference, 2e-5, 2e-4, `x_prev of prediction ${k} at t=${t}`);
      }
    }
  });

  test("clip_sample clamps x̂₀ to [−clip_sample_range, clip_sample_range]", async () => {
    const scheduler = DDIMScheduler.fromConfig({ ...SD15, clip_sample: true, clip_sample_range: 0.5 });
    scheduler.setTimesteps(10);
    const x = randomTensor([1, 4, 6, 6], 5, 3).tensor;
    const eps = randomTensor([1, 4, 6, 6], 6).tensor;
    const x0 = await read(scheduler.step(eps, scheduler.timesteps[0], x).predOriginalSample);
    assert.ok(x0.every((v) => v >= -0.5 && v <= 0.5));
    assert.ok(x0.some((v) => v === 0.5) && x0.some((v) => v === -0.5));
  });

  test("a generator draws the same noise as passing its draw explicitly", async () => {
    const scheduler = DDIMScheduler.fromConfig(SD15);
    scheduler.setTimesteps(20);
    const x = randomTensor([1, 4, 5, 5], 1).tensor;
    const eps = randomTensor([1, 4, 5, 5], 2).tensor;
    const drawn = new RandomGenerator(7).randn([1, 4, 5, 5]);
    const explicit = await read(scheduler.step(eps, 501, x, { eta: 1, noise: drawn }).prevSample);
    const generated = await read(scheduler.step(eps, 501, x, { eta: 1, generator: new RandomGenerator(7) }).prevSample);
    assert.deepEqual(generated, explicit);
  });

  test("step() rejects misuse before any GPU work", () => {
    const scheduler = DDIMScheduler.fromConfig(SD15);
    const x = randomTensor([1, 4, 2, 2], 1).tensor;
    assert.throws(() => scheduler.step(x, 951, x), /call setTimesteps\(numInferenceSteps\) first/);
    scheduler.setTimesteps(20);
    assert.throws(() => scheduler.step(x, 951, x, { eta: 1 }), /pass noise \(a tensor shaped like the sample\) or a generator/);
    assert.throws(() => scheduler.step(x, 951, x, { eta: -1 }), /eta -1: it must be >= 0/);
    assert.throws(
      () => scheduler.step(x, 951, x, { eta: 1, noise: x, generator: new RandomGenerator(1) }),
      /either noise or generator, not both/,
    );
    assert.throws(
      () => scheduler.step(randomTensor([1, 4, 2, 3], 2).tensor, 951, x),
      /model output has shape \[1, 4, 2, 3\], the sample \[1, 4, 2, 2\]/,
    );
    assert.throws(() => scheduler.step(x, 1000, x), /timestep 1000/);
    assert.throws(() => scheduler.step(x, [1, 2, 3], x), /3 timesteps for a batch of 1/);
  });
});
