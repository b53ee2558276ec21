import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Device } from "../device/device.ts";
import { testDevice } from "../testing/mod.ts";
import { arange, zeros } from "./creation/creation.ts";
import { concat } from "./movement/concat.ts";
import { randn } from "./random/random.ts";
import { add, neg } from "./elementwise/elementwise_ops.ts";
import { BindingSizeError, checkBindingSizes } from "./binding_limit.ts";

let device: Device;

before(async () => {
  device = await testDevice();
});

after(() => device?.destroy());

describe("checkBindingSizes", () => {
  test("accepts a tensor of exactly the limit and names the first larger one with its size", () => {
    const limit = 1024;
    checkBindingSizes(
      "add",
      [
        { shape: [16, 16], dtype: "f32" },
        { shape: [512], dtype: "f16" },
      ],
      limit,
    );
    assert.throws(
      () =>
        checkBindingSizes(
          "add",
          [
            { shape: [4], dtype: "f32" },
            { shape: [257], dtype: "f32" },
          ],
          limit,
        ),
      (error: Error) => {
        assert.ok(error instanceof BindingSizeError && error instanceof RangeError);
        assert.deepEqual([error.op, error.shape, error.bytes, error.maxBindingBytes], ["add", [257], 1028, 1024]);
        assert.match(error.message, /^Cannot run add: its output \[257\] f32 is 0\.0 MiB, more than this adapter binds at once/);
        return true;
      },
    );
    assert.throws(
      () =>
        checkBindingSizes(
          "matmul",
          [
            { shape: [300], dtype: "i32" },
            { shape: [1], dtype: "f32" },
          ],
          limit,
        ),
      /Cannot run matmul: input 0 \[300\] i32/,
    );
  });
});

describe("tensors above one storage binding", () => {
  // a device that binds at most 64 KiB: the windowed paths with small tensors, on any adapter
  const LIMIT = 64 * 1024;
  let small: Device;
  before(async () => {
    small = await Device.create({ maxBindingBytes: LIMIT });
  });
  after(() => small?.destroy());

  test("arange, zeros and randn fill them window by window, with the values of one dispatch", async () => {
    const count = LIMIT / 4 + 300; // the last window holds 300 elements
    const big = arange(0, count, 1, { dtype: "i32", device: small });
    assert.deepEqual(
      Array.from((await big.toArray()) as Int32Array),
      Array.from({ length: count }, (_, i) => i),
    );
    const halves = arange(0.5, count, 1, { dtype: "f32", device: small });
    const halfValues = (await halves.toArray()) as Float32Array;
    for (const i of [0, LIMIT / 4 - 1, LIMIT / 4, count - 1]) assert.equal(halfValues[i], i + 0.5);
    const zero = zeros([count], { device: small });
    assert.ok(((await zero.toArray()) as Float32Array).every((v) => v === 0));
    // the full-limit device fills the same tensor in one window: the bits must agree
    const windowed = (await randn([count], { seed: 9, device: small }).toArray()) as Float32Array;
    const whole = (await randn([count], { seed: 9, device }).toArray()) as Float32Array;
    assert.deepEqual(new Uint32Array(windowed.buffer), new Uint32Array(whole.buffer));
  });

  test("an op that binds a larger tensor whole is refused before any GPU work, naming the tensor and the limit", () => {
    const x = zeros([LIMIT / 4 + 1], { device: small });
    const fits = zeros([LIMIT / 4], { device: small });
    const before = small.queue.counters.dispatches;
    assert.throws(
      () => neg(x),
      (error: Error) => {
        assert.ok(error instanceof BindingSizeError);
        assert.equal(
          error.message.split(". ")[0],
          `Cannot run neg: input 0 [${LIMIT / 4 + 1}] f32 is 0.1 MiB, more than this adapter binds at once (maxStorageBufferBindingSize 0.1 MiB)`,
        );
        return true;
      },
    );
    assert.throws(() => add(x, 1), BindingSizeError);
    assert.throws(() => concat([fits, fits], 0), /Cannot run concat: its output \[32768\] f32/);
    assert.equal(small.queue.counters.dispatches, before, "no kernel was dispatched");
    neg(fits).dispose(); // exactly the limit is fine
    x.dispose();
    fits.dispose();
  });

  test("a device cannot be asked to bind less than 256 bytes", async () => {
    await assert.rejects(Device.create({ maxBindingBytes: 100 }), /binds at most 100 bytes: it must be at least 256/);
  });
});
