import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { fcRuns } from "@spo/wgpu-tensor/testing";
import { f32 } from "./_numpy.ts";
import { type BetaSchedule, DEFAULT_NOISE_SCHEDULE, NoiseSchedule } from "./noise_schedule.ts";

const arbSchedule = fc.record({
  numTrainTimesteps: fc.integer({ min: 2, max: 1500 }),
  betaStart: fc.double({ min: 1e-5, max: 1e-3, noNaN: true }),
  betaEnd: fc.double({ min: 2e-3, max: 0.05, noNaN: true }),
  betaSchedule: fc.constantFrom<BetaSchedule>("linear", "scaled_linear", "squaredcos_cap_v2", "sigmoid"),
});

describe("NoiseSchedule", () => {
  test("betas increase from beta_start to beta_end and ᾱ decreases inside (0, 1)", () => {
    fc.assert(
      fc.property(arbSchedule, (fields) => {
        const schedule = new NoiseSchedule({ ...DEFAULT_NOISE_SCHEDULE, ...fields });
        const { betas, alphasCumprod } = schedule;
        assert.equal(betas.length, fields.numTrainTimesteps);
        for (let i = 1; i < betas.length; i++) {
          assert.ok(betas[i] >= betas[i - 1], `betas decrease at ${i}`);
          assert.ok(alphasCumprod[i] < alphasCumprod[i - 1], `ᾱ does not decrease at ${i}`);
        }
        assert.ok(alphasCumprod.every((a) => a > 0 && a < 1));
        if (fields.betaSchedule === "linear") {
          assert.equal(betas[0], f32(fields.betaStart));
          assert.equal(betas.at(-1), f32(fields.betaEnd));
        }
        if (fields.betaSchedule === "scaled_linear") {
          assert.ok(Math.abs(betas[0] - fields.betaStart) <= 4e-7 * fields.betaStart);
          assert.ok(Math.abs(betas.at(-1)! - fields.betaEnd) <= 4e-7 * fields.betaEnd);
        }
      }),
      { numRuns: fcRuns(40) },
    );
  });

  test("ᾱ_t is the product of 1 − β_s over s ≤ t", () => {
    fc.assert(
      fc.property(arbSchedule, (fields) => {
        const { betas, alphas, alphasCumprod } = new NoiseSchedule({ ...DEFAULT_NOISE_SCHEDULE, ...fields });
        let product = 1;
        for (let t = 0; t < betas.length; t++) {
          assert.equal(alphas[t], f32(1 - betas[t]));
          product *= 1 - betas[t];
          // one float32 rounding per factor, at most: |relative error| ≤ (t + 1)·2⁻²⁴ (+ slack)
          assert.ok(
            Math.abs(alphasCumprod[t] - product) <= (t + 2) * 2 ** -23 * product,
            `ᾱ_${t} = ${alphasCumprod[t]}, product ${product}`,
          );
        }
      }),
      { numRuns: fcRuns(20) },
    );
  });

  test("the cosine schedule follows ᾱ(t) = cos²((t/T + 0.008)/1.008 · π/2) / ᾱ(0) with β capped at 0.999", () => {
    const T = 1000;
    const schedule = new NoiseSchedule({ ...DEFAULT_NOISE_SCHEDULE, numTrainTimesteps: T, betaSchedule: "squaredcos_cap_v2" });
    const alphaBar = (t: number) => Math.cos((((t + 0.008) / 1.008) * Math.PI) / 2) ** 2;
    assert.ok(schedule.betas.every((b) => b <= f32(0.999)));
    for (const t of [0, 10, 250, 500, 900, 980]) {
      const want = alphaBar((t + 1) / T) / alphaBar(0);
      assert.ok(
        Math.abs(schedule.alphasCumprod[t] - want) <= 1e-5 * want + 1e-7,
        `ᾱ_${t} = ${schedule.alphasCumprod[t]}, expected ${want}`,
      );
    }
  });

  test("rescale_betas_zero_snr keeps ᾱ₀, ends at ᾱ = 0 and maps √ᾱ linearly", () => {
    fc.assert(
      fc.property(
        arbSchedule.filter((f) => f.betaSchedule !== "squaredcos_cap_v2"),
        (fields) => {
          const plain = new NoiseSchedule({ ...DEFAULT_NOISE_SCHEDULE, ...fields });
          const rescaled = new NoiseSchedule({ ...DEFAULT_NOISE_SCHEDULE, ...fields, rescaleBetasZeroSnr: true });
          const n = fields.numTrainTimesteps;
          assert.equal(rescaled.alphasCumprod[n - 1], 0);
          assert.ok(Math.abs(rescaled.alphasCumprod[0] - plain.alphasCumprod[0]) <= 1e-6);
          const [s0, sT] = [Math.sqrt(plain.alphasCumprod[0]), Math.sqrt(plain.alphasCumprod[n - 1])];
          for (const t of [0, Math.floor(n / 3), Math.floor(n / 2), n - 2]) {
            const want = ((Math.sqrt(plain.alphasCumprod[t]) - sT) * s0) / (s0 - sT);
            assert.ok(Math.abs(Math.sqrt(rescaled.alphasCumprod[t]) - want) <= 2e-4 * want + 1e-6, `√ᾱ_${t}`);
          }
        },
      ),
      { numRuns: fcRuns(20) },
    );
  });

  test("trained_betas are used as given (rounded to float32)", () => {
    const schedule = new NoiseSchedule({ ...DEFAULT_NOISE_SCHEDULE, numTrainTimesteps: 3, trainedBetas: [0.1, 0.2, 0.3] });
    assert.deepEqual(Array.from(schedule.betas), [f32(0.1), f32(0.2), f32(0.3)]);
    assert.ok(Math.abs(schedule.alphasCumprod[2] - 0.9 * 0.8 * 0.7) < 1e-7);
  });

  test("alphaProd rejects timesteps outside [0, T) and fractions", () => {
    const schedule = new NoiseSchedule(DEFAULT_NOISE_SCHEDULE);
    assert.throws(() => schedule.alphaProd(1000), /timestep 1000: it must be an integer in \[0, 1000\)/);
    assert.throws(() => schedule.alphaProd(-1), RangeError);
    assert.throws(() => schedule.alphaProd(2.5), RangeError);
    assert.equal(schedule.alphaProd(0), schedule.alphasCumprod[0]);
  });
});
