import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import type { Device } from "../../device/device.ts";
import { ShapeError } from "../../tensor/errors.ts";
import { arbShape, checkAgainstReference, fcRuns, fromHost, randomHost, testDevice, toHost } from "../../testing/mod.ts";
import { flatten, reshape, reshapeOp, squeeze, unsqueeze } from "./reshape.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

describe("reshape and friends", () => {
  test("reshapeOp's copy kernel matches the reference, with a -1 dimension", async () => {
    await fc.assert(
      fc.asyncProperty(arbShape({ minRank: 1 }), fc.integer(), async (shape, seed) => {
        const target = [...shape].reverse();
        target[0] = -1;
        await checkAgainstReference(reshapeOp, [randomHost(shape, seed)], { shape: target }, { atol: 0, rtol: 0 });
      }),
      { numRuns: fcRuns(8) },
    );
  });

  test("reshape() shares storage instead of copying", async () => {
    const x = fromHost(randomHost([2, 6], 1));
    const y = reshape(x, [3, -1]);
    assert.deepEqual(y.shape, [3, 4]);
    assert.equal(y.buffer, x.buffer);
    const dispatches = device.queue.counters.dispatches;
    reshape(y, [12]).dispose();
    assert.equal(device.queue.counters.dispatches, dispatches);
    x.dispose();
    assert.deepEqual((await toHost(y)).data.length, 12); // the view keeps the storage alive
    y.dispose();
  });

  test("the reshape backward gives dy back in the input's shape", async () => {
    const x = fromHost(randomHost([2, 3, 4], 1));
    x.requiresGrad = true;
    const y = reshape(x, [4, 6]);
    assert.equal(y.requiresGrad, true);
    const dyHost = randomHost([4, 6], 2);
    const dy = fromHost(dyHost);
    const [dx] = y.gradNode!.backward(dy);
    assert.deepEqual(dx!.shape, [2, 3, 4]);
    assert.deepEqual((await toHost(dx!)).data, dyHost.data);
    for (const t of [x, y, dy, dx!]) t.dispose();
  });

  test("flatten(), squeeze() and unsqueeze() compute PyTorch's shapes", () => {
    const x = fromHost(randomHost([1, 3, 1, 2], 1));
    const cases: [() => { shape: readonly number[]; dispose(): void }, number[]][] = [
      [() => flatten(x), [6]],
      [() => flatten(x, 1), [1, 6]],
      [() => flatten(x, 1, 2), [1, 3, 2]],
      [() => squeeze(x), [3, 2]],
      [() => squeeze(x, 2), [1, 3, 2]],
      [() => squeeze(x, 1), [1, 3, 1, 2]],
      [() => unsqueeze(x, 0), [1, 1, 3, 1, 2]],
      [() => unsqueeze(x, -1), [1, 3, 1, 2, 1]],
    ];
    for (const [make, shape] of cases) {
      const y = make();
      assert.deepEqual(y.shape, shape);
      y.dispose();
    }
    assert.throws(() => reshape(x, [4, 2]), ShapeError);
    assert.throws(() => flatten(x, 2, 1), /start comes after the end/);
    x.dispose();
  });
});
