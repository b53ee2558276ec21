import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { backward } from "../autograd/backward.ts";
import type { Device } from "../device/device.ts";
import { tidy } from "../memory/scope.ts";
import { Conv2d } from "../nn/conv2d.ts";
import { Linear } from "../nn/linear.ts";
import { Module } from "../nn/module.ts";
import { tensor } from "../ops/creation/creation.ts";
import { mul, neg, relu } from "../ops/elementwise/elementwise_ops.ts";
import { mean, sum } from "../ops/reduce/reduce_ops.ts";
import { logSoftmax } from "../ops/softmax/softmax.ts";
import { AdamW } from "../optim/adamw.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { seededValues, testDevice } from "../testing/mod.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

/** 8×8 noisy images holding a bright horizontal (class 0) or vertical (class 1) bar. */
function makeBatch(seed: number, count: number): { images: Float32Array; labels: number[] } {
  const noise = seededValues(seed, count * 64, -0.3, 0.3);
  const picks = seededValues(seed + 1, count * 2, 0, 1);
  const images = new Float32Array(count * 64);
  const labels: number[] = [];
  for (let n = 0; n < count; n++) {
    const label = picks[2 * n] < 0.5 ? 0 : 1;
    const line = Math.floor(picks[2 * n + 1] * 8);
    labels.push(label);
    for (let i = 0; i < 8; i++) {
      for (let j = 0; j < 8; j++) {
        const isBar = label === 0 ? i === line : j === line;
        images[n * 64 + i * 8 + j] = noise[n * 64 + i * 8 + j] + (isBar ? 1 : 0);
      }
    }
  }
  return { images, labels };
}

class BarNet extends Module {
  readonly conv = this.registerModule("conv", new Conv2d(1, 6, [1, 3], { padding: [0, 1], seed: 11 }));
  readonly head = this.registerModule("head", new Linear(6, 2, { seed: 12 }));

  forward(images: Tensor): Tensor {
    return tidy(() => {
      // a 1×3 filter with a negative bias fires only on three bright pixels in a row: on a
      // horizontal bar; a global average of its ReLU is then a position-invariant feature
      const features = relu(this.conv.forward(images)); // [N, 6, 8, 8]
      return logSoftmax(this.head.forward(mean(features, [2, 3])), -1);
    });
  }
}

test("a small conv net learns a synthetic task to a loss far below chance (ln 2 = 0.69)", async () => {
  const model = new BarNet();
  const optimizer = new AdamW(model.parameters(), { lr: 0.05, weightDecay: 0 });
  let loss = Infinity;
  for (let step = 0; step < 80; step++) {
    const { images, labels } = makeBatch(step * 7 + 1, 32);
    const lossTensor = tidy(() => {
      const logProbs = model.forward(tensor(images, [32, 1, 8, 8]));
      const oneHot = tensor(
        labels.flatMap((l) => (l === 0 ? [1, 0] : [0, 1])),
        [32, 2],
      );
      return neg(mean(sum(mul(logProbs, oneHot), [1])));
    });
    backward(lossTensor);
    optimizer.step();
    optimizer.zeroGrad();
    if (step >= 75) loss = Math.min(loss, await lossTensor.item());
    lossTensor.dispose();
  }
  // held-out accuracy, not just training loss
  const { images, labels } = makeBatch(999_999, 64);
  const logProbs = model.forward(tensor(images, [64, 1, 8, 8]));
  const values = await logProbs.toArray();
  const correct = labels.filter((label, n) => (values[2 * n] > values[2 * n + 1] ? 0 : 1) === label).length;
  assert.ok(loss < 0.1, `training loss ${loss} is not far below chance`);
  assert.ok(correct >= 60, `held-out accuracy ${correct}/64`);
  optimizer.dispose();
  model.dispose();
});
