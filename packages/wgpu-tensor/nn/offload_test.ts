import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Device } from "../device/device.ts";
import { noGrad } from "../autograd/grad_mode.ts";
import { exactBytes } from "../memory/buffer_pool.ts";
import { tidy } from "../memory/scope.ts";
import { tensor } from "../ops/creation/creation.ts";
import { DisposedError } from "../tensor/errors.ts";
import { testDevice } from "../testing/mod.ts";
import { Linear } from "./linear.ts";
import { Module } from "./module.ts";
import { hostOffloadOf, offloadToHost } from "./offload.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

class TwoLayers extends Module {
  readonly first: Linear;
  readonly second: Linear;
  constructor(dtype: "f32" | "f16") {
    super();
    this.first = this.registerModule("first", new Linear(5, 7, { device, dtype, seed: 3 }));
    this.second = this.registerModule("second", new Linear(7, 3, { device, dtype, seed: 4 }));
    this.registerBuffer("steps", tensor([1, 2, 3], [3], { dtype: "i32", device }));
  }
  forward(x: ReturnType<typeof tensor>) {
    return this.second.forward(this.first.forward(x));
  }
}

async function output(model: TwoLayers, dtype: "f32" | "f16"): Promise<number[]> {
  const x = tensor(
    Array.from({ length: 10 }, (_, i) => Math.sin(i) * 2),
    [2, 5],
    { device, dtype },
  );
  const y = noGrad(() => tidy(() => model.forward(x)));
  const values = [...(await y.toArray())];
  x.dispose();
  y.dispose();
  return values;
}

describe("offloadToHost", () => {
  for (const dtype of ["f32", "f16"] as const) {
    test(`${dtype}: weights leave the GPU, come back bit for bit, and a run while offloaded throws`, async (t) => {
      if (dtype === "f16" && !device.hasF16) {
        t.diagnostic("no shader-f16 on this adapter");
        return;
      }
      await device.sync();
      const empty = device.memory().liveBytes;
      const model = new TwoLayers(dtype);
      const want = await output(model, dtype);
      const states = new Map([...model.stateDict()].map(([name, v]) => [name, v]));
      const before = await Promise.all([...states.values()].map(async (v) => [...(await v.toArray())]));
      const weightBytes = device.memory().liveBytes - empty;
      assert.ok(weightBytes > 0);

      const offload = await offloadToHost(model);
      assert.equal(device.memory().liveBytes, empty, "no weight bytes live on the GPU while offloaded");
      assert.equal(offload.isOnDevice, false);
      const padded = [...states.values()].reduce((n, v) => n + Math.ceil(v.byteLength / 4) * 4, 0);
      assert.equal(offload.byteLength, padded, "the host holds each tensor's bytes (padded to 4)");
      assert.ok(model.first.weight.isMeta);
      const input = tensor([1, 2, 3, 4, 5], [1, 5], { device, dtype });
      assert.throws(() => model.forward(input), DisposedError);
      input.dispose();
      assert.equal(await offloadToHost(model), offload, "a second call returns the same handle");
      assert.equal(hostOffloadOf(model), offload);

      for (let round = 0; round < 2; round++) {
        offload.upload();
        offload.upload(); // no-op
        const exact = [...states.values()].reduce((n, v) => n + exactBytes(Math.max(v.byteLength, 4)), 0);
        assert.equal(device.memory().liveBytes - empty, exact, "each tensor back in storage sized to its data");
        assert.deepEqual(await output(model, dtype), want, `round ${round}: the same output after coming back`);
        const after = await Promise.all([...model.stateDict().values()].map(async (v) => [...(await v.toArray())]));
        assert.deepEqual(after, before, "every parameter and buffer bit for bit");
        offload.release();
        offload.release(); // no-op
        assert.equal(device.memory().liveBytes, empty);
      }
      model.dispose();
    });
  }
});
