import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Device } from "../../device/device.ts";
import { ShapeError } from "../../tensor/errors.ts";
import { testDevice } from "../../testing/mod.ts";
import { tensor } from "./creation.ts";

let device: Device;
let other: Device;
before(async () => {
  device = await testDevice();
  other = await Device.create();
});
after(() => {
  other.destroy();
  device.destroy();
});

test("tensor(data, options) takes the options in place of the shape (shape from the nesting)", async () => {
  const x = tensor(
    [
      [1, 2, 3],
      [4, 5, 6],
    ],
    { device: other },
  );
  assert.deepEqual(x.shape, [2, 3]);
  assert.equal(x.device, other);
  assert.deepEqual(Array.from(await x.toArray()), [1, 2, 3, 4, 5, 6]);
  const ids = tensor(Int32Array.of(7, 8), { dtype: "i32" });
  assert.deepEqual([ids.shape, ids.dtype, ids.device], [[2], "i32", device]);
  x.dispose();
  ids.dispose();
});

test("tensor() names what it got when the shape is neither an array nor options", () => {
  assert.throws(
    () => tensor([1, 2], 2 as unknown as number[]),
    (error: Error) =>
      error instanceof ShapeError && /Cannot create a tensor: the shape must be an array of sizes, got 2/.test(error.message),
  );
});
