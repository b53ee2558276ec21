import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Device } from "../../device/device.ts";
import { keep } from "../../memory/scope.ts";
import { clipGradNorm } from "../../optim/clip_grad.ts";
import { NonFiniteError } from "../../tensor/errors.ts";
import { testDevice } from "../../testing/mod.ts";
import { tensor } from "../creation/creation.ts";
import { div } from "../elementwise/elementwise_ops.ts";
import { assertFinite } from "./assert_finite.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

test("assertFinite() passes finite values and names the stage, the first bad element and the count otherwise", async () => {
  const good = tensor([1, -2, 3e38, 0], [2, 2]);
  await assertFinite(good, "the loss");
  const bad = tensor([1, Number.NaN, Number.POSITIVE_INFINITY, 2, Number.NaN, 0], [2, 3]);
  await assert.rejects(assertFinite(bad, "the final latents"), (error: Error) => {
    assert.ok(error instanceof NonFiniteError);
    assert.equal(error.stage, "the final latents");
    assert.equal(error.index, 1);
    assert.equal(error.message, "Cannot use the final latents: element 1 of [2, 3] is NaN (3 of 6 values are not finite)");
    return true;
  });
  good.dispose();
  bad.dispose();
});

test("a NaN gradient shows as a non-finite gradient norm before the optimizer sees it", async () => {
  const theta = keep(tensor([1, 2, 3]));
  theta.requiresGrad = true;
  theta.grad = keep(div(tensor([1, 0, 1]), tensor([1, 0, 1]))); // 0/0 = NaN in the middle
  const norm = clipGradNorm([theta], 1);
  await assert.rejects(assertFinite(norm, "the gradient norm"), /Cannot use the gradient norm: element 0 of \[\] is NaN/);
  norm.dispose();
  theta.dispose();
});
