import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import type { Device } from "../../device/device.ts";
import { ShapeError } from "../../tensor/errors.ts";
import { type HostTensor, hostZeros, ravel, unravel } from "../../tensor/host_tensor.ts";
import { arbShape, fcRuns, fromHost, randomHost, testDevice, toHost } from "../../testing/mod.ts";
import { pad } from "./pad.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

/** torch.nn.functional.pad (constant mode) written directly: for each output element, the source. */
function padReference(x: HostTensor, pads: readonly number[], value: number): HostTensor {
  const before = x.shape.map((_, axis) => pads[2 * (x.shape.length - 1 - axis)] ?? 0);
  const after = x.shape.map((_, axis) => pads[2 * (x.shape.length - 1 - axis) + 1] ?? 0);
  const out = hostZeros(
    x.shape.map((dim, a) => dim + before[a] + after[a]),
    x.dtype,
  );
  for (let flat = 0; flat < out.data.length; flat++) {
    const source = unravel(flat, out.shape).map((i, a) => i - before[a]);
    const inside = source.every((i, a) => i >= 0 && i < x.shape[a]);
    out.data[flat] = inside ? x.data[ravel(source, x.shape)] : value;
  }
  return out;
}

const arbPadded = arbShape({ minRank: 1, maxRank: 4, maxDim: 12 }).chain((shape) =>
  fc.integer({ min: 1, max: shape.length }).chain((pairs) =>
    fc
      .array(fc.integer({ min: -3, max: 4 }), { minLength: 2 * pairs, maxLength: 2 * pairs })
      .filter((pads) =>
        shape.every((dim, a) => dim + (pads[2 * (shape.length - 1 - a)] ?? 0) + (pads[2 * (shape.length - 1 - a) + 1] ?? 0) >= 0),
      )
      .map((pads) => ({ shape, pads })),
  ),
);

describe("pad", () => {
  test("pad() matches torch's constant padding, negative amounts cropping", async () => {
    await fc.assert(
      fc.asyncProperty(arbPadded, fc.integer(), fc.constantFrom(0, 1.5), async ({ shape, pads }, seed, value) => {
        const host = randomHost(shape, seed);
        const x = fromHost(host);
        const y = pad(x, pads, value);
        const expected = padReference(host, pads, value);
        assert.deepEqual(y.shape, expected.shape);
        assert.deepEqual((await toHost(y)).data, expected.data);
        x.dispose();
        y.dispose();
      }),
      { numRuns: fcRuns(16) },
    );
  });

  test("the VAE downsampler's pad (0, 1, 0, 1) adds one zero column and row", async () => {
    const host = randomHost([1, 2, 3, 3], 5);
    const x = fromHost(host);
    const y = pad(x, [0, 1, 0, 1]);
    assert.deepEqual(y.shape, [1, 2, 4, 4]);
    assert.deepEqual((await toHost(y)).data, padReference(host, [0, 1, 0, 1], 0).data);
    x.dispose();
    y.dispose();
  });

  test("the pad backward takes dy at x's positions, also through a crop", async () => {
    const host = randomHost([3, 6], 2);
    const x = fromHost(host);
    x.requiresGrad = true;
    const pads = [-2, 1, 1, 0];
    const y = pad(x, pads);
    const dyHost = randomHost(y.shape, 3);
    const dy = fromHost(dyHost);
    // walk the two recorded nodes by hand (padInto, then the crop's slice)
    const [dCropped] = y.gradNode!.backward(dy);
    const croppedTensor = y.gradNode!.inputs[0];
    const [dx] = croppedTensor.gradNode!.backward(dCropped!);
    const expected = new Float64Array(18);
    for (let r = 0; r < 3; r++) for (let c = 2; c < 6; c++) expected[r * 6 + c] = dyHost.data[(r + 1) * 5 + (c - 2)];
    assert.deepEqual((await toHost(dx!)).data, expected);
    for (const t of [x, y, dy, dCropped!, dx!]) t.dispose();
  });

  test("a crop larger than the axis leaves an empty axis instead of wrapping around", async () => {
    const host = randomHost([6, 2, 2], 1);
    const x = fromHost(host);
    const y = pad(x, [0, 0, 1, -3]);
    assert.deepEqual(y.shape, [6, 0, 2]);
    assert.deepEqual(padReference(host, [0, 0, 1, -3], 0).shape, [6, 0, 2]);
    x.dispose();
    y.dispose();
  });

  test("pad() rejects odd pad lists and negative results", () => {
    const x = fromHost(randomHost([2, 3], 1));
    assert.throws(() => pad(x, [1]), ShapeError);
    assert.throws(() => pad(x, [-2, -2]), /negative size/);
    x.dispose();
  });
});
