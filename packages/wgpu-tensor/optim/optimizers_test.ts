import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Device } from "../device/device.ts";
import { keep } from "../memory/scope.ts";
import { tensor } from "../ops/creation/creation.ts";
import { add, mul } from "../ops/elementwise/elementwise_ops.ts";
import { DisposedError, NonFiniteError } from "../tensor/errors.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { assertClose, testDevice } from "../testing/mod.ts";
import { AdamW } from "./adamw.ts";
import { constantSchedule, cosineSchedule, linearSchedule, LrScheduler } from "./lr_schedule.ts";
import { SGD } from "./sgd.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

/** f(θ) = ½ Σ aᵢ(θᵢ − cᵢ)², so ∇f = a ∘ (θ − c): the gradient is set directly, no autograd needed. */
const curvature = [1, 3, 0.5, 2];
const center = [0.5, -1, 2, 0];
function setQuadraticGrad(theta: Tensor, thetaHost: Float64Array): void {
  theta.grad?.dispose();
  theta.grad = keep(tensor(thetaHost.map((v, i) => curvature[i] * (v - center[i]))));
}

/**
 * PyTorch's AdamW (torch.optim.AdamW docs), with θ, m and v stored in f32 after every step as
 * torch does for f32 parameters, so the comparison measures only the arithmetic inside one step.
 */
function adamwReference(
  start: readonly number[],
  steps: number,
  lr: number,
  b1: number,
  b2: number,
  eps: number,
  wd: number,
): Float64Array[] {
  const f = Math.fround;
  const theta = start.map(f);
  const m = new Array<number>(theta.length).fill(0);
  const v = new Array<number>(theta.length).fill(0);
  const trajectory: Float64Array[] = [];
  for (let t = 1; t <= steps; t++) {
    for (let i = 0; i < theta.length; i++) {
      const g = f(curvature[i] * (theta[i] - center[i]));
      const decayed = theta[i] * (1 - lr * wd);
      m[i] = f(b1 * m[i] + (1 - b1) * g);
      v[i] = f(b2 * v[i] + (1 - b2) * g * g);
      const denominator = Math.sqrt(v[i]) / Math.sqrt(1 - b2 ** t) + eps;
      theta[i] = f(decayed - ((lr / (1 - b1 ** t)) * m[i]) / denominator);
    }
    trajectory.push(Float64Array.from(theta));
  }
  return trajectory;
}

describe("optimizers", () => {
  test("AdamW on a quadratic follows PyTorch's update to 1e-6 over 50 steps", async () => {
    const start = [1, 2, -1, 0.25];
    const theta = keep(tensor(start));
    const opt = new AdamW([theta], { lr: 0.05, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01 });
    const expected = adamwReference(start, 50, 0.05, 0.9, 0.999, 1e-8, 0.01);
    let host = Float64Array.from(start);
    for (let step = 0; step < 50; step++) {
      setQuadraticGrad(theta, host);
      opt.step();
      host = Float64Array.from(await theta.toArray());
      assertClose(host, expected[step], { atol: 1e-6, rtol: 0 }, `AdamW step ${step + 1}`);
    }
    opt.dispose();
    theta.dispose();
  });

  test("SGD with momentum and Nesterov matches PyTorch's formulas", async () => {
    for (const nesterov of [false, true]) {
      const start = [1, -2, 0.5, 3];
      const theta = keep(tensor(start));
      const opt = new SGD([theta], { lr: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov });
      const ref = Float64Array.from(start);
      const buffer = new Float64Array(4);
      for (let t = 1; t <= 20; t++) {
        setQuadraticGrad(theta, Float64Array.from(await theta.toArray()));
        opt.step();
        for (let i = 0; i < 4; i++) {
          const g = curvature[i] * (Math.fround(ref[i]) - center[i]) + 0.01 * ref[i];
          buffer[i] = t === 1 ? g : 0.9 * buffer[i] + g;
          ref[i] -= 0.1 * (nesterov ? g + 0.9 * buffer[i] : buffer[i]);
        }
      }
      assertClose(await theta.toArray(), ref, { atol: 1e-5, rtol: 0 }, `SGD nesterov=${nesterov}`);
      opt.dispose();
      theta.dispose();
    }
  });

  test("AdamW state saved after 5 steps and loaded into a fresh optimizer continues identically", async () => {
    const run = async (resumeAt: number | null) => {
      const theta = keep(tensor([1, 2, -1, 0.25]));
      let opt = new AdamW([theta], { lr: 0.05 });
      for (let step = 0; step < 10; step++) {
        if (step === resumeAt) {
          const saved = await opt.stateDict();
          opt.dispose();
          opt = new AdamW([theta], { lr: 123 });
          opt.loadStateDict(saved);
        }
        setQuadraticGrad(theta, Float64Array.from(await theta.toArray()));
        opt.step();
      }
      const result = await theta.toArray();
      opt.dispose();
      theta.dispose();
      return result;
    };
    assert.deepEqual(await run(5), await run(null));
  });

  test("parameters without a gradient are left untouched", async () => {
    const a = keep(tensor([1, 2]));
    const b = keep(tensor([3, 4]));
    const opt = new AdamW([a, b], { lr: 0.1 });
    b.grad = keep(tensor([1, 1]));
    opt.step();
    assert.deepEqual(Array.from(await a.toArray()), [1, 2]);
    assert.notDeepEqual(Array.from(await b.toArray()), [3, 4]);
    opt.dispose();
    a.dispose();
    b.dispose();
  });

  test("step() refuses a disposed parameter before updating any parameter", async () => {
    for (const make of [(ps: Tensor[]) => new AdamW(ps, { lr: 0.1 }), (ps: Tensor[]) => new SGD(ps, { lr: 0.1 })]) {
      const a = keep(tensor([1, 2]));
      const b = keep(tensor([3, 4]));
      const opt = make([a, b]);
      a.grad = keep(tensor([1, 1]));
      b.grad = keep(tensor([1, 1]));
      b.dispose();
      assert.throws(
        () => opt.step(),
        (error: Error) => error instanceof DisposedError && /parameter 1 of shape \[2\].*disposed/.test(error.message),
      );
      assert.deepEqual(Array.from(await a.toArray()), [1, 2]);
      opt.dispose();
      a.dispose();
    }
  });

  test("checkedStep() refuses a NaN or Inf gradient naming the gradient norm, before any parameter or moment changes", async () => {
    const theta = keep(tensor([1, 2, 3]));
    const opt = new AdamW([theta], { lr: 0.1 });
    theta.grad = keep(tensor([0.5, Number.NaN, 1]));
    await assert.rejects(
      opt.checkedStep(),
      (error: Error) => error instanceof NonFiniteError && /^Cannot use the gradient norm: element 0 of \[\] is NaN/.test(error.message),
    );
    theta.grad!.dispose();
    theta.grad = keep(tensor([0.5, Number.POSITIVE_INFINITY, 1]));
    await assert.rejects(opt.checkedStep({ maxGradNorm: 1 }), NonFiniteError);
    assert.deepEqual(Array.from(await theta.toArray()), [1, 2, 3]);
    assert.equal(opt.stepCount, 0);
    // the moments were not touched: a finite step now matches a fresh optimizer's first step
    theta.grad!.dispose();
    theta.grad = keep(tensor([0.5, -1, 1]));
    const norm = await opt.checkedStep();
    assert.ok(Math.abs(norm - 1.5) < 1e-6, String(norm));
    const fresh = keep(tensor([1, 2, 3]));
    const freshOpt = new AdamW([fresh], { lr: 0.1 });
    fresh.grad = keep(tensor([0.5, -1, 1]));
    freshOpt.step();
    assert.deepEqual(Array.from(await theta.toArray()), Array.from(await fresh.toArray()));
    for (const t of [theta, fresh]) t.dispose();
    opt.dispose();
    freshOpt.dispose();
  });

  test("learning-rate schedules warm up linearly and decay as diffusers' get_scheduler does", () => {
    const constant = constantSchedule(1, 10);
    assert.equal(constant(0), 0);
    assert.equal(constant(5), 0.5);
    assert.equal(constant(50), 1);
    const linear = linearSchedule(1, 10, 110);
    assert.equal(linear(10), 1);
    assert.equal(linear(60), 0.5);
    assert.equal(linear(110), 0);
    const cosine = cosineSchedule(1, 0, 100);
    assert.equal(cosine(0), 1);
    assert.ok(Math.abs(cosine(50) - 0.5) < 1e-12);
    assert.ok(Math.abs(cosine(100)) < 1e-12);
  });

  test("LrScheduler sets the optimizer's rate before each step", () => {
    const theta = keep(tensor([1]));
    const opt = new SGD([theta], { lr: 99 });
    const scheduler = new LrScheduler(opt, linearSchedule(0.1, 2, 4));
    const seen = [];
    for (let i = 0; i < 4; i++) {
      seen.push(opt.lr);
      scheduler.step();
    }
    assert.deepEqual(seen, [0, 0.05, 0.1, 0.05]);
    theta.dispose();
  });

  test("elementwise ops leave parameters' values for the optimizer untouched", async () => {
    const theta = keep(tensor([1, 2]));
    const derived = add(mul(theta, 2), 1);
    assert.deepEqual(Array.from(await derived.toArray()), [3, 5]);
    assert.deepEqual(Array.from(await theta.toArray()), [1, 2]);
    derived.dispose();
    theta.dispose();
  });
});
