import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Device } from "../device/device.ts";
import { keep } from "../memory/scope.ts";
import { tensor } from "../ops/creation/creation.ts";
import { assertClose, testDevice } from "../testing/mod.ts";
import { clipGradNorm } from "./clip_grad.ts";
import { GradScaler } from "./grad_scaler.ts";
import { SGD } from "./sgd.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

describe("gradient clipping and loss scaling", () => {
  test("clipGradNorm() rescales to the global norm and returns it", async () => {
    const a = keep(tensor([1]));
    const b = keep(tensor([1, 1]));
    a.grad = keep(tensor([3]));
    b.grad = keep(tensor([0, 4]));
    const total = clipGradNorm([a, b], 1);
    assert.ok(Math.abs((await total.item()) - 5) < 1e-5);
    assertClose(await a.grad!.toArray(), [0.6], { atol: 1e-6, rtol: 1e-5 });
    assertClose(await b.grad!.toArray(), [0, 0.8], { atol: 1e-6, rtol: 1e-5 });
    const unchanged = clipGradNorm([a, b], 10); // below the limit: untouched
    assertClose(await b.grad!.toArray(), [0, 0.8], { atol: 1e-6, rtol: 1e-5 });
    [a, b, total, unchanged].forEach((t) => t.dispose());
  });

  test("GradScaler skips the step and backs off on inf, unscales and grows otherwise", async () => {
    const w = keep(tensor([1, 2]));
    const optimizer = new SGD([w], { lr: 1 });
    const scaler = new GradScaler({ initScale: 8, growthInterval: 2 });
    w.grad = keep(tensor([Infinity, 8]));
    assert.equal(await scaler.step(optimizer), false);
    assert.equal(scaler.scale, 4);
    assert.deepEqual(Array.from(await w.toArray()), [1, 2]);
    assert.equal(w.grad, null);
    for (let i = 0; i < 2; i++) {
      w.grad = keep(tensor([4, 8])); // scaled by 4: the true gradient is [1, 2]
      assert.equal(await scaler.step(optimizer), true);
    }
    assert.deepEqual(Array.from(await w.toArray()), [-1, -2]);
    assert.equal(scaler.scale, 8, "two clean steps double the scale");
    optimizer.dispose();
    w.dispose();
  });

  test("GradScaler.unscale lets true gradients be clipped before step, which does not unscale again", async () => {
    const w = keep(tensor([1, 2]));
    const optimizer = new SGD([w], { lr: 1 });
    const scaler = new GradScaler({ initScale: 4 });
    w.grad = keep(tensor([4, 8])); // scaled by 4: the true gradient is [1, 2], norm √5
    assert.equal(await scaler.unscale(optimizer), true);
    assertClose(await w.grad!.toArray(), [1, 2], { atol: 0, rtol: 0 });
    await assert.rejects(scaler.unscale(optimizer), /twice/);
    clipGradNorm([w], 1).dispose();
    assert.equal(await scaler.step(optimizer), true);
    assertClose(await w.toArray(), [1 - 1 / Math.sqrt(5), 2 - 2 / Math.sqrt(5)], { atol: 1e-6, rtol: 1e-6 });
    w.grad = keep(tensor([NaN, 8]));
    assert.equal(await scaler.unscale(optimizer), false);
    assert.equal(await scaler.step(optimizer), false);
    assert.equal(scaler.scale, 2);
    assert.equal(w.grad, null);
    optimizer.dispose();
    w.dispose();
  });
});
