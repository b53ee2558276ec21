import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { type Device, tensor } from "@spo/wgpu-tensor";
import { fcRuns, testDevice } from "@spo/wgpu-tensor/testing";
import { arbLatentShape, assertNear, randomTensor, read, SD15 } from "./_testing.ts";
import { DPMSolverMultistepScheduler } from "./dpm_solver_multistep_scheduler.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

/** VP quantities of a σ in float64: α = 1/√(σ² + 1), σ_t = σ·α, λ = log α − log σ_t. */
function vp(sigma: number): { alpha: number; sigmaT: number; lambda: number } {
  const alpha = 1 / Math.sqrt(sigma ** 2 + 1);
  const sigmaT = sigma * alpha;
  return { alpha, sigmaT, lambda: Math.log(alpha) - Math.log(sigmaT) };
}

describe("DPMSolverMultistepScheduler", () => {
  test("a first-order step is DDIM's deterministic update between the same σ", async () => {
    await fc.assert(
      fc.asyncProperty(
        arbLatentShape,
        fc.integer({ min: 2, max: 40 }),
        fc.nat(),
        fc.boolean(),
        fc.integer(),
        async (shape, steps, position, karras, seed) => {
          const scheduler = DPMSolverMultistepScheduler.fromConfig({ ...SD15, solver_order: 1, use_karras_sigmas: karras });
          scheduler.setTimesteps(steps);
          const index = position % steps;
          const x = randomTensor(shape, seed, 3);
          const eps = randomTensor(shape, seed + 1);
          const out = scheduler.step(eps.tensor, scheduler.timesteps[index], x.tensor);
          const s = vp(scheduler.sigmas[index]);
          const t = vp(scheduler.sigmas[index + 1]);
          const x0 = x.data.map((v, i) => (v - s.sigmaT * eps.data[i]) / s.alpha);
          // DDIM η = 0: x_t = α_t·x̂₀ + σ_t·ε̂ with ε̂ = (x_s − α_s·x̂₀)/σ_s (σ_t = 0 at the end: x̂₀)
          const want = x0.map((v, i) => t.alpha * v + t.sigmaT * ((x.data[i] - s.alpha * v) / s.sigmaT));
          assertNear(await read(out.predOriginalSample), x0, 1e-4, 1e-4, "x̂₀");
          assertNear(await read(out.prevSample), want, 1e-4, 1e-4, `x at step ${index} of ${steps}`);
          scheduler.dispose();
        },
      ),
      { numRuns: fcRuns(12) },
    );
  });

  test("the second step is the DPM-Solver++(2M) midpoint update with the first step's x̂₀", async () => {
    const shape = [2, 4, 3, 3];
    for (const karras of [false, true]) {
      const scheduler = DPMSolverMultistepScheduler.fromConfig({ ...SD15, use_karras_sigmas: karras });
      scheduler.setTimesteps(10);
      const x = randomTensor(shape, 1, 10);
      const eps1 = randomTensor(shape, 2);
      const eps2 = randomTensor(shape, 3);
      const first = scheduler.step(eps1.tensor, scheduler.timesteps[0], x.tensor);
      const x1 = await read(first.prevSample);
      const second = scheduler.step(eps2.tensor, scheduler.timesteps[1], first.prevSample);
      assert.equal(scheduler.lowerOrderNums, 2);
      const [s1, s0, t] = [0, 1, 2].map((i) => vp(scheduler.sigmas[i]));
      const m1 = x.data.map((v, i) => (v - s1.sigmaT * eps1.data[i]) / s1.alpha);
      const m0 = x1.map((v, i) => (v - s0.sigmaT * eps2.data[i]) / s0.alpha);
      const h = t.lambda - s0.lambda;
      const r0 = (s0.lambda - s1.lambda) / h;
      const c = t.alpha * (Math.exp(-h) - 1);
      const want = x1.map((v, i) => (t.sigmaT / s0.sigmaT) * v - c * m0[i] - 0.5 * c * ((m0[i] - m1[i]) / r0));
      assertNear(await read(second.prevSample), want, 1e-4, 1e-4, `second step (karras ${karras})`);
      scheduler.dispose();
    }
  });

  test("orders 2 (midpoint and Heun) and 3 equal order 1 when x̂₀ does not change between steps", async () => {
    const shape = [1, 4, 4, 4];
    const x0 = randomTensor(shape, 4).tensor;
    const noise = randomTensor(shape, 5).tensor;
    const run = async (config: Record<string, unknown>) => {
      const scheduler = DPMSolverMultistepScheduler.fromConfig({ ...SD15, prediction_type: "sample", ...config });
      scheduler.setTimesteps(8);
      let x = noise;
      const rows: Float32Array[] = [];
      for (const t of scheduler.timesteps) {
        x = scheduler.step(x0, t, x).prevSample;
        rows.push(await read(x));
      }
      scheduler.dispose();
      return rows;
    };
    const firstOrder = await run({ solver_order: 1 });
    for (const config of [{ solver_order: 2 }, { solver_order: 2, solver_type: "heun" }, { solver_order: 3 }, { solver_order: 4 }]) {
      const rows = await run(config);
      rows.forEach((row, i) => assertNear(row, firstOrder[i], 1e-6, 1e-6, `${JSON.stringify(config)} step ${i}`));
    }
    assertNear(firstOrder.at(-1)!, await read(x0), 1e-6, 1e-6, "the trajectory ends at x̂₀");
  });

  test("the Heun second-order step is exact when x̂₀ is linear in λ", async () => {
    const shape = [1, 4, 3, 3];
    const scheduler = DPMSolverMultistepScheduler.fromConfig({
      ...SD15,
      prediction_type: "sample",
      solver_type: "heun",
      final_sigmas_type: "sigma_min",
      lower_order_final: false,
    });
    scheduler.setTimesteps(10);
    const a = randomTensor(shape, 6);
    const b = randomTensor(shape, 7);
    const [s1, s0, t] = [0, 1, 2].map((i) => vp(scheduler.sigmas[i]));
    const x0At = (lambda: number) =>
      tensor(
        a.data.map((v, i) => v + b.data[i] * lambda),
        shape,
      );
    const x = randomTensor(shape, 8, 10).tensor;
    const first = scheduler.step(x0At(s1.lambda), scheduler.timesteps[0], x).prevSample;
    const xs = await read(first);
    const second = await read(scheduler.step(x0At(s0.lambda), scheduler.timesteps[1], first).prevSample);
    // x_t = (σ_t/σ_s)·x_s + σ_t ∫ e^λ x̂₀(λ) dλ = (σ_t/σ_s)·x_s + α_t[(1 − e^−h)·x̂₀(λ_s) + (h − 1 + e^−h)·b]
    const h = t.lambda - s0.lambda;
    const want = xs.map(
      (v, i) =>
        (t.sigmaT / s0.sigmaT) * v +
        t.alpha * ((1 - Math.exp(-h)) * (a.data[i] + b.data[i] * s0.lambda) + (h - 1 + Math.exp(-h)) * b.data[i]),
    );
    assertNear(second, want, 1e-4, 1e-4, "Heun step");
    scheduler.dispose();
  });

  test("Karras sigmas run from σ_max down to σ_min with non-increasing timesteps, then 0", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 100 }), (steps) => {
        const scheduler = DPMSolverMultistepScheduler.fromConfig({ ...SD15, use_karras_sigmas: true });
        scheduler.setTimesteps(steps);
        const { sigmas, timesteps } = scheduler;
        const trainSigma = (t: number) => Math.sqrt((1 - scheduler.schedule.alphasCumprod[t]) / scheduler.schedule.alphasCumprod[t]);
        assert.ok(Math.abs(sigmas[0] - trainSigma(999)) <= 1e-6 * sigmas[0]);
        assert.ok(Math.abs(sigmas[steps - 1] - trainSigma(0)) <= 1e-6 * sigmas[steps - 1]);
        assert.equal(sigmas[steps], 0);
        for (let i = 1; i < steps; i++) {
          assert.ok(sigmas[i] < sigmas[i - 1]);
          // two neighbouring small σ can round to one timestep (45 steps end with 1, 1, 0)
          assert.ok(timesteps[i] <= timesteps[i - 1]);
        }
      }),
      { numRuns: fcRuns(30) },
    );
  });

  test("setTimesteps and dispose() free the kept x̂₀ and reset the multistep state", async () => {
    const scheduler = DPMSolverMultistepScheduler.fromConfig(SD15);
    scheduler.setTimesteps(5);
    const x = randomTensor([1, 4, 8, 8], 1).tensor;
    const eps = randomTensor([1, 4, 8, 8], 2).tensor;
    await device.sync();
    const baseline = device.memory().liveBytes;
    for (const t of scheduler.timesteps.slice(0, 3)) {
      const out = scheduler.step(eps, t, x);
      out.prevSample.dispose();
      out.predOriginalSample.dispose();
    }
    assert.equal(scheduler.stepIndex, 3);
    await device.sync();
    assert.ok(device.memory().liveBytes > baseline, "the scheduler keeps its last x̂₀");
    scheduler.dispose();
    await device.sync();
    assert.equal(device.memory().liveBytes, baseline);
    assert.equal(scheduler.stepIndex, null);
    assert.equal(scheduler.lowerOrderNums, 0);
  });
});
