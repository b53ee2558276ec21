import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import type { Device } from "../../device/device.ts";
import type { DType } from "../../tensor/dtype.ts";
import { DTypeError } from "../../tensor/errors.ts";
import type { HostTensor } from "../../tensor/host_tensor.ts";
import { arbShape, checkAgainstReference, fcRuns, fromHost, randomHost, testDevice, toHost, toleranceFor } from "../../testing/mod.ts";
import { cast, castOp, castValue } from "./cast.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

/**
 * Values exactly representable in `dtype`, in a range the target holds: u32 targets (and sources)
 * get ≥ 0, f16 targets stay within ±2048 (integers exact in f16; overflow is implementation-defined).
 */
function source(shape: number[], seed: number, dtype: DType, to: DType): HostTensor {
  const low = to === "u32" || dtype === "u32" ? 0 : -1;
  const magnitude = to === "f16" ? 2048 : dtype === "f32" ? 3000 : 100000;
  if (dtype === "f16") return randomHost(shape, seed, { dtype, low, high: 1 });
  return randomHost(shape, seed, { dtype, low: magnitude * low, high: magnitude });
}

const pairs: [DType, DType][] = [];
for (const from of ["f32", "f16", "i32", "u32"] as const) {
  for (const to of ["f32", "f16", "i32", "u32"] as const) pairs.push([from, to]);
}

describe("cast", () => {
  for (const [from, to] of pairs) {
    test(`cast() from ${from} to ${to} matches the reference`, async () => {
      if ((from === "f16" || to === "f16") && !device.hasF16) {
        assert.throws(() => cast(fromHost(randomHost([2], 1)), "f16"), DTypeError);
        return;
      }
      await fc.assert(
        fc.asyncProperty(arbShape({ maxRank: 3 }), fc.integer(), async (shape, seed) => {
          const x = source(shape, seed, from, to);
          // f32 → f16: WGSL may round either way to a neighbour, so allow f16's rounding; else exact
          const tolerance = to === "f16" ? toleranceFor("f16") : { atol: 0, rtol: 0 };
          await checkAgainstReference(castOp, [x], { dtype: to }, tolerance);
        }),
        { numRuns: fcRuns(4) },
      );
    });
  }

  test("float to integer truncates toward zero like torch, saturates, and i32 <-> u32 keeps the bits", async () => {
    const x = fromHost({ shape: [6], dtype: "f32", data: Float64Array.from([-2.9, -0.5, 0.5, 2.9, 7, -7]) });
    const y = cast(x, "i32");
    assert.deepEqual([...(await toHost(y)).data], [-2, 0, 0, 2, 7, -7]);
    const huge = fromHost({ shape: [3], dtype: "f32", data: Float64Array.from([3e9, -3e9, -5]) });
    const saturated = [cast(huge, "i32"), cast(huge, "u32")];
    // WGSL saturates at the largest f32 inside the range (2³¹ − 128), not at 2³¹ − 1
    assert.deepEqual([...(await toHost(saturated[0])).data], [2 ** 31 - 128, -(2 ** 31), -5]);
    assert.deepEqual([...(await toHost(saturated[1])).data], [3e9, 0, 0]);
    assert.deepEqual(
      [3e9, -3e9, 5e9].map((v) => castValue(v, "f32", "i32")),
      [2 ** 31 - 128, -(2 ** 31), 2 ** 31 - 128],
    );
    for (const t of [huge, ...saturated]) t.dispose();
    const z = cast(y, "u32");
    assert.deepEqual([...(await toHost(z)).data], [2 ** 32 - 2, 0, 0, 2, 7, 2 ** 32 - 7]);
    assert.equal(castValue(-1, "i32", "u32"), 2 ** 32 - 1);
    assert.equal(castValue(2 ** 32 - 1, "u32", "i32"), -1);
    for (const t of [x, y, z]) t.dispose();
  });

  test("the cast backward returns dy in x's dtype for float casts and nothing for integer ones", async () => {
    const x = fromHost(randomHost([5], 1));
    x.requiresGrad = true;
    const toInt = cast(x, "i32");
    const dyInt = fromHost(randomHost([5], 2, { dtype: "i32", low: -5, high: 5 }));
    assert.deepEqual(toInt.gradNode!.backward(dyInt), [null]);
    if (device.hasF16) {
      const half = cast(x, "f16");
      const dyHost = randomHost([5], 3, { dtype: "f16" });
      const dy = fromHost(dyHost);
      const [dx] = half.gradNode!.backward(dy);
      assert.equal(dx!.dtype, "f32");
      assert.deepEqual((await toHost(dx!)).data, dyHost.data);
      for (const t of [half, dy, dx!]) t.dispose();
    }
    for (const t of [x, toInt, dyInt]) t.dispose();
  });

  test("cast() rejects an unknown dtype before any GPU work", () => {
    const x = fromHost(randomHost([2], 1));
    assert.throws(() => cast(x, "f64" as DType), /Cannot cast f32 to f64/);
    x.dispose();
  });
});
