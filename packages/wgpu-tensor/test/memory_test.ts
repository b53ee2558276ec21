import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Device } from "../device/device.ts";
import { keep, tidy } from "../memory/scope.ts";
import { tensor, zeros } from "../ops/creation/creation.ts";
import { add, exp, mul, sub } from "../ops/elementwise/elementwise_ops.ts";

let device: Device;
before(async () => {
  device = await Device.create({ poolCapBytes: 1 << 20 });
  Device.setDefault(device);
});
after(() => device.destroy());

describe("memory", () => {
  test("thousands of op chains inside tidy return live bytes to the baseline", async () => {
    const x = tensor(Array.from({ length: 1000 }, (_, i) => i / 1000));
    const baseline = device.memory().liveBytes;
    for (let step = 0; step < 2000; step++) {
      tidy(() => {
        sub(mul(add(x, step), 0.5), exp(x));
      });
    }
    await device.sync();
    const stats = device.memory();
    assert.equal(stats.liveBytes, baseline);
    assert.ok(stats.pooledBytes <= (1 << 20) + 4096 * 4, `pooled bytes ${stats.pooledBytes} exceed the cap`);
    x.dispose();
  });

  test("tidy keeps what fn returns and what was kept, and frees the rest", async () => {
    const before = device.memory().liveBytes;
    let kept!: ReturnType<typeof zeros>;
    const result = tidy(() => {
      kept = keep(zeros([64]));
      const temporary = add(kept, 1);
      return mul(temporary, 2);
    });
    assert.equal(kept.isDisposed, false);
    assert.equal(result.isDisposed, false);
    assert.deepEqual(Array.from(await result.toArray()).slice(0, 2), [2, 2]);
    result.dispose();
    kept.dispose();
    assert.equal(device.memory().liveBytes, before);
  });

  test("nested tidy moves a returned tensor to the enclosing scope", () => {
    let inner!: ReturnType<typeof zeros>;
    tidy(() => {
      inner = tidy(() => add(zeros([8]), 1));
      assert.equal(inner.isDisposed, false);
    });
    assert.equal(inner.isDisposed, true);
  });

  test("`using` disposes a tensor at the end of its block", () => {
    const before = device.memory().liveBytes;
    {
      using temporary = zeros([256]);
      assert.ok(device.memory().liveBytes > before);
      assert.equal(temporary.isDisposed, false);
    }
    assert.equal(device.memory().liveBytes, before);
  });

  test("a view shares storage and the buffer is freed only when both are disposed", () => {
    const before = device.memory().liveBytes;
    const x = zeros([4, 4]);
    const v = x.view(16);
    x.dispose();
    assert.ok(device.memory().liveBytes > before);
    v.dispose();
    assert.equal(device.memory().liveBytes, before);
  });
});
