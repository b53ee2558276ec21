import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Device, mul, noGrad, type Tensor, tensor } from "@spo/wgpu-tensor";
import { testDevice } from "@spo/wgpu-tensor/testing";
import { BACKWARD_COST, ComputeMeter, type CountableDenoiser, forwardEquivalents } from "./compute_meter.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

/** A one-weight denoiser on real tensors: output = w · sample (gradient flows when w requires it). */
class ScaleDenoiser implements CountableDenoiser {
  calls = 0;
  constructor(readonly weight: Tensor) {}
  forward(sample: Tensor, _timesteps: readonly number[], _context: Tensor): Tensor {
    this.calls++;
    return mul(sample, this.weight);
  }
}

function rows(n: number): Tensor {
  return tensor(new Float32Array(n * 3 * 2 * 2).fill(0.5), [n, 3, 2, 2], { device });
}

describe("ComputeMeter", () => {
  test("counts every row of every forward call, and rows with a gradient separately", async () => {
    const weight = tensor(new Float32Array([2]), [1], { device });
    weight.requiresGrad = true;
    const denoiser = new ScaleDenoiser(weight);
    const meter = ComputeMeter.attach(denoiser);
    const context = rows(1);
    const owned: Tensor[] = [context];
    // 2 CFG halves of 3 images without gradient, then 4 rows with gradient
    const a = rows(6);
    owned.push(
      a,
      noGrad(() => denoiser.forward(a, [1, 1, 1, 1, 1, 1], context)),
    );
    const b = rows(4);
    owned.push(b, denoiser.forward(b, [1, 1, 1, 1], context));
    assert.deepEqual(meter.count, { rows: 10, gradientRows: 4 });
    assert.equal(meter.forwardEquivalents, 10 + 2 * 4);
    assert.equal(denoiser.calls, 2);
    // paused work is not charged; reset starts again from zero
    await meter.paused(async () => {
      owned.push(noGrad(() => denoiser.forward(a, [1, 1, 1, 1, 1, 1], context)));
    });
    assert.deepEqual(meter.count, { rows: 10, gradientRows: 4 });
    meter.reset();
    assert.equal(meter.forwardEquivalents, 0);
    // detached: the class's own forward again, nothing counted
    meter.detach();
    assert.equal(Object.hasOwn(denoiser, "forward"), false);
    owned.push(denoiser.forward(b, [1, 1, 1, 1], context));
    assert.equal(meter.rows, 0);
    assert.equal(denoiser.calls, 4);
    for (const t of [...owned, weight]) t.dispose();
  });

  test("forwardEquivalents counts a backward as BACKWARD_COST forwards", () => {
    assert.equal(BACKWARD_COST, 2);
    assert.equal(forwardEquivalents({ rows: 0, gradientRows: 0 }), 0);
    assert.equal(forwardEquivalents({ rows: 100, gradientRows: 0 }), 100);
    assert.equal(forwardEquivalents({ rows: 160, gradientRows: 32 }), 224);
  });
});
