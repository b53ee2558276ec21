import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Device } from "../device/device.ts";
import { keep, tidy } from "../memory/scope.ts";
import { tensor } from "../ops/creation/creation.ts";
import { add, exp, mul, tanh } from "../ops/elementwise/elementwise_ops.ts";
import { sumToShape } from "../ops/reduce/sum_to_shape.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { assertClose, seededValues, testDevice } from "../testing/mod.ts";
import { backward } from "./backward.ts";
import { checkpoint } from "./checkpoint.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

const SIZE = 1 << 16;

/** A block with several full-size intermediates, like a resnet's norm/activation/conv chain. */
function block(x: Tensor, w: Tensor): Tensor {
  const a = tanh(mul(x, w));
  const b = exp(mul(a, 0.5));
  const c = mul(b, a);
  return add(c, x);
}

function runModel(weights: Tensor[], input: Tensor, useCheckpoint: boolean): Tensor {
  return tidy(() => {
    let h = input;
    for (const w of weights) h = useCheckpoint ? checkpoint((x) => block(x, w), h) : block(h, w);
    return sumToShape(h, []);
  });
}

describe("checkpoint", () => {
  test("gradients through checkpointed blocks equal those without checkpointing", async () => {
    const results: Float32Array[][] = [];
    for (const useCheckpoint of [false, true]) {
      const weights = [0, 1, 2].map((i) => {
        const w = keep(tensor(seededValues(i + 1, 8, 0.5, 1.5), [8]));
        w.requiresGrad = true;
        return w;
      });
      const x = keep(tensor(seededValues(9, 32, -1, 1), [4, 8]));
      x.requiresGrad = true;
      backward(runModel(weights, x, useCheckpoint));
      results.push([
        (await x.grad!.toArray()) as Float32Array,
        ...(await Promise.all(weights.map((w) => w.grad!.toArray() as Promise<Float32Array>))),
      ]);
      [x, ...weights].forEach((t) => t.dispose());
    }
    results[0].forEach((expected, i) => assertClose(results[1][i], expected, { atol: 1e-6, rtol: 1e-5 }, `gradient ${i}`));
  });

  test("checkpointing lowers the peak memory of forward + backward", async () => {
    const peaks: number[] = [];
    for (const useCheckpoint of [false, true]) {
      const weights = Array.from({ length: 6 }, (_, i) => {
        const w = keep(tensor(seededValues(i, SIZE, 0.5, 1.5)));
        w.requiresGrad = true;
        return w;
      });
      const x = keep(tensor(seededValues(99, SIZE)));
      await device.sync();
      device.pool.resetPeak();
      const base = device.memory().liveBytes;
      backward(runModel(weights, x, useCheckpoint));
      await device.sync();
      peaks.push(device.memory().peakBytes - base);
      [x, ...weights].forEach((t) => t.dispose());
    }
    const [plain, checkpointed] = peaks;
    // 6 blocks × 4 saved full-size tensors without, block inputs only with: expect well under half
    assert.ok(checkpointed < plain * 0.6, `peak with checkpointing ${checkpointed} B, without ${plain} B`);
  });
});
