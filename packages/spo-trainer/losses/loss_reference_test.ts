// The transition log-prob, the clipped DPO loss and the Diffusion-DPO loss against float64 JS
// references of the formulas, values and gradients (central finite differences of the reference).
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import fc from "fast-check";
import { backward, sub, tensor } from "@spo/wgpu-tensor";
import { fcRuns, seededValues, testDevice } from "@spo/wgpu-tensor/testing";
import {
  referenceDiffusionDpoLoss,
  referenceLogProb,
  referenceMeanSigma,
  referenceSpoLoss,
  type ReferenceSchedule,
} from "../test/_loss_reference.ts";
import { sd15Scheduler } from "../test/_tiny.ts";
import { diffusionDpoLoss } from "./diffusion_dpo_loss.ts";
import { spoLoss } from "./spo_loss.ts";
import { transitionLogProb } from "./transition_log_prob.ts";

before(async () => {
  await testDevice();
});

const scheduler = sd15Scheduler();
scheduler.setTimesteps(20);
const REF: ReferenceSchedule = { alphasCumprod: Float64Array.from(scheduler.alphasCumprod), stepSize: 50, total: 1000 };
const f32 = (values: Float64Array) => Float32Array.from(values);

function finiteDifference(f: (x: Float64Array) => number, x: Float64Array, h: number): Float64Array {
  return Float64Array.from(x, (_, i) => {
    const plus = Float64Array.from(x);
    const minus = Float64Array.from(x);
    plus[i] += h;
    minus[i] -= h;
    return (f(plus) - f(minus)) / (2 * h);
  });
}

describe("losses against float64 references", () => {
  it("matches the log-prob formula for random shapes and timesteps", async () => {
    const arb = fc.record({
      batch: fc.integer({ min: 1, max: 4 }),
      size: fc.integer({ min: 1, max: 40 }),
      seed: fc.integer({ min: 0, max: 1e6 }),
    });
    await fc.assert(
      fc.asyncProperty(arb, async ({ batch, size, seed }) => {
        const n = batch * size;
        const timesteps = Array.from({ length: batch }, (_, b) => scheduler.timesteps[(seed + 5 * b) % 20]);
        const [eps, x, prev] = [0, 1, 2].map((k) => Float64Array.from(f32(seededValues(seed + k, n, -2, 2))));
        const got = await transitionLogProb(
          scheduler,
          tensor(f32(eps), [batch, size]),
          timesteps,
          tensor(f32(x), [batch, size]),
          tensor(f32(prev), [batch, size]),
        ).toArray();
        const want = referenceLogProb(REF, eps, timesteps, x, prev);
        want.forEach((w, b) =>
          assert.ok(Math.abs(got[b] - w) <= 2e-4 * (1 + Math.abs(w)), `row ${b} t ${timesteps[b]}: ${got[b]} vs ${w}`),
        );
      }),
      { numRuns: fcRuns(20) },
    );
  });

  it("gives the SPO loss and its gradient w.r.t. the policy ε̂ of the reference (ratios inside the clip)", async () => {
    const batch = 3;
    const size = 8;
    const timesteps = [751, 251, 1];
    const x = Float64Array.from(f32(seededValues(1, batch * size)));
    const ref = Float64Array.from(f32(seededValues(4, batch * size)));
    // the children drawn from the reference's transition, as the sampler draws them
    const { mean, sigma } = referenceMeanSigma(REF, ref, timesteps, x);
    const child = (seed: number) =>
      Float64Array.from(
        f32(Float64Array.from(seededValues(seed, batch * size, -2, 2), (z, i) => mean[i] + sigma[Math.floor(i / size)] * z)),
      );
    const win = child(2);
    const lose = child(3);
    // the policy a little off the reference, so every ratio stays in [0.9, 1.1]
    const policy = Float64Array.from(f32(Float64Array.from(ref, (r, i) => r + 0.002 * Math.sin(i))));
    const policyTensor = tensor(f32(policy), [batch, 2, 2, 2]);
    policyTensor.requiresGrad = true;
    const shape = [batch, 2, 2, 2];
    const out = spoLoss(scheduler, {
      policyEps: policyTensor,
      refEps: tensor(f32(ref), shape),
      sample: tensor(f32(x), shape),
      winner: tensor(f32(win), shape),
      loser: tensor(f32(lose), shape),
      timesteps,
    });
    const loss = (p: Float64Array) =>
      referenceSpoLoss(
        REF,
        p,
        Float64Array.from(f32(ref)),
        timesteps,
        Float64Array.from(f32(x)),
        Float64Array.from(f32(win)),
        Float64Array.from(f32(lose)),
      );
    const value = await out.loss.item();
    assert.ok(Math.abs(value - loss(policy)) < 2e-5, `loss ${value} vs ${loss(policy)}`);
    backward(out.loss);
    const grad = await policyTensor.grad!.toArray();
    const numeric = finiteDifference(loss, policy, 1e-4);
    const scale = Math.max(...Array.from(numeric, Math.abs));
    numeric.forEach((g, i) => assert.ok(Math.abs(grad[i] - g) <= 2e-3 * scale, `element ${i}: ${grad[i]} vs ${g}`));
  });

  it("stays finite when a log-ratio passes e^88: the ratio is held at e^±80, the clamped pair gives the clip's loss and no gradient", async () => {
    // a policy ε̂ 30 off the reference moves log π by far more than 88: e^d overflows
    const shape = [2, 2, 2, 2];
    const n = 16;
    const x = f32(seededValues(11, n));
    const ref = f32(seededValues(12, n));
    const { mean, sigma } = referenceMeanSigma(REF, Float64Array.from(ref), [1, 1], Float64Array.from(x));
    const child = (seed: number) => f32(Float64Array.from(seededValues(seed, n, -2, 2), (z, i) => mean[i] + sigma[Math.floor(i / 8)] * z));
    const policyTensor = tensor(
      Float32Array.from(ref, (r, i) => r + (i % 2 ? 30 : -30)),
      shape,
    );
    policyTensor.requiresGrad = true;
    const out = spoLoss(scheduler, {
      policyEps: policyTensor,
      refEps: tensor(ref, shape),
      sample: tensor(x, shape),
      winner: tensor(child(13), shape),
      loser: tensor(child(14), shape),
      timesteps: [1, 1],
    });
    const logRatios = [...(await sub(out.logpWin, out.logpWinRef).toArray()), ...(await sub(out.logpLose, out.logpLoseRef).toArray())];
    assert.ok(
      logRatios.some((d) => Math.abs(d) > 88),
      `log-ratios ${logRatios}: the case must pass f32's e^88`,
    );
    // the ratios before the clip are held at e^±80, finite, on the side of their log-ratio
    const raw = [...(await out.rawRatioWin.toArray()), ...(await out.rawRatioLose.toArray())];
    raw.forEach((r, i) => {
      assert.ok(Number.isFinite(r), `raw ratio ${r} is finite`);
      if (logRatios[i]! > 80) assert.ok(Math.abs(r / Math.exp(80) - 1) < 1e-5, `raw ratio ${r} for log-ratio ${logRatios[i]}`);
      if (logRatios[i]! < -80) assert.ok(Math.abs(r / Math.exp(-80) - 1) < 1e-5, `raw ratio ${r} for log-ratio ${logRatios[i]}`);
    });
    const ratios = [...(await out.ratioWin.toArray()), ...(await out.ratioLose.toArray())];
    assert.ok(
      ratios.every((r) => r >= 0.9 - 1e-6 && r <= 1.1 + 1e-6),
      `clamped ratios ${ratios}`,
    );
    const value = await out.loss.item();
    assert.ok(Number.isFinite(value), `loss ${value}`);
    backward(out.loss);
    const grad = await policyTensor.grad!.toArray();
    assert.ok(grad.every(Number.isFinite), "gradient is finite");
    assert.ok(
      grad.every((g) => g === 0),
      "every ratio is clamped, so no gradient flows",
    );
  });

  it("gives the Diffusion-DPO loss and gradient of the reference, finite for large margins", async () => {
    const rows = 2;
    const size = 6;
    const [pw, pl, rw, rl, nw, nl] = [11, 12, 13, 14, 15, 16].map((seed) =>
      Float64Array.from(f32(seededValues(seed, rows * size, -0.1, 0.1))),
    );
    const t = (v: Float64Array) => tensor(f32(v), [rows, size]);
    const policyWin = t(pw);
    policyWin.requiresGrad = true;
    for (const beta of [5000, 50]) {
      const out = diffusionDpoLoss(
        { policyWin, policyLose: t(pl), refWin: t(rw), refLose: t(rl), noiseWin: t(nw), noiseLose: t(nl) },
        { beta },
      );
      const f = (p: Float64Array) => referenceDiffusionDpoLoss(rows, p, pl, rw, rl, nw, nl, beta);
      const value = await out.loss.item();
      assert.ok(Number.isFinite(value) && Math.abs(value - f(pw)) <= 1e-4 * (1 + Math.abs(f(pw))), `beta ${beta}: ${value} vs ${f(pw)}`);
      if (beta !== 50) continue;
      backward(out.loss);
      const grad = await policyWin.grad!.toArray();
      const numeric = finiteDifference(f, pw, 1e-4);
      const scale = Math.max(...Array.from(numeric, Math.abs));
      numeric.forEach((g, i) => assert.ok(Math.abs(grad[i] - g) <= 2e-3 * scale, `element ${i}: ${grad[i]} vs ${g}`));
    }
    // identical policy and reference: margin 0, loss ln 2
    const same = diffusionDpoLoss({
      policyWin: t(rw),
      policyLose: t(rl),
      refWin: t(rw),
      refLose: t(rl),
      noiseWin: t(nw),
      noiseLose: t(nl),
    });
    assert.ok(Math.abs((await same.loss.item()) - Math.LN2) < 1e-6);
  });
});
