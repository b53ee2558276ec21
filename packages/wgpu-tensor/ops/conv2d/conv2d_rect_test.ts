// conv2d with [height, width] pairs that differ (kernel, stride, padding, dilation), checked against
// a convolution written here from PyTorch's definition, with its own output-size formula: neither
// the op's reference nor its geometry function (conv2d_geometry.ts) is used, so a height value
// used for the width, or a wrong output size, fails here.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import type { Device } from "../../device/device.ts";
import { tensor } from "../creation/creation.ts";
import { assertClose, checkGradients, fcRuns, seededValues, testDevice, toleranceFor } from "../../testing/mod.ts";
import { conv2d, conv2dOp } from "./conv2d.ts";
import { conv2dAttrs } from "./conv2d_geometry.ts";
import { hostTensor } from "../../tensor/host_tensor.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

/** PyTorch's Conv2d output size along one axis (torch.nn.Conv2d docs, "Shape"). */
function outputSize(size: number, kernel: number, stride: number, padding: number, dilation: number): number {
  return Math.floor((size + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1;
}

interface Rect {
  batch: number;
  inChannels: number;
  outChannels: number;
  height: number;
  width: number;
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
}

/** out[n, o, i, j] = Σ_c Σ_p Σ_q x[n, c, i·sH − pH + p·dH, j·sW − pW + q·dW] · w[o, c, p, q], zero outside x. */
function naiveConv2d(x: Float64Array, w: Float64Array, r: Rect): { shape: number[]; data: Float64Array } {
  const outH = outputSize(r.height, r.kernel[0], r.stride[0], r.padding[0], r.dilation[0]);
  const outW = outputSize(r.width, r.kernel[1], r.stride[1], r.padding[1], r.dilation[1]);
  const out = new Float64Array(r.batch * r.outChannels * outH * outW);
  for (let n = 0; n < r.batch; n++) {
    for (let o = 0; o < r.outChannels; o++) {
      for (let i = 0; i < outH; i++) {
        for (let j = 0; j < outW; j++) {
          let sum = 0;
          for (let c = 0; c < r.inChannels; c++) {
            for (let p = 0; p < r.kernel[0]; p++) {
              for (let q = 0; q < r.kernel[1]; q++) {
                const row = i * r.stride[0] - r.padding[0] + p * r.dilation[0];
                const col = j * r.stride[1] - r.padding[1] + q * r.dilation[1];
                if (row < 0 || row >= r.height || col < 0 || col >= r.width) continue;
                const xValue = x[((n * r.inChannels + c) * r.height + row) * r.width + col]!;
                const wValue = w[((o * r.inChannels + c) * r.kernel[0] + p) * r.kernel[1] + q]!;
                sum += xValue * wValue;
              }
            }
          }
          out[((n * r.outChannels + o) * outH + i) * outW + j] = sum;
        }
      }
    }
  }
  return { shape: [r.batch, r.outChannels, outH, outW], data: out };
}

const arbPair = (values: number[]) => fc.tuple(fc.constantFrom(...values), fc.constantFrom(...values));

/** Problems whose two axes differ in at least one of kernel, stride, padding and dilation. */
const arbRect = fc
  .record({
    batch: fc.integer({ min: 1, max: 2 }),
    inChannels: fc.integer({ min: 1, max: 3 }),
    outChannels: fc.integer({ min: 1, max: 4 }),
    height: fc.integer({ min: 1, max: 9 }),
    width: fc.integer({ min: 1, max: 11 }),
    kernel: arbPair([1, 2, 3]),
    stride: arbPair([1, 2, 3]),
    padding: arbPair([0, 1, 2]),
    dilation: arbPair([1, 2]),
  })
  .filter(
    (r) =>
      (r.kernel[0] !== r.kernel[1] || r.stride[0] !== r.stride[1] || r.padding[0] !== r.padding[1] || r.dilation[0] !== r.dilation[1]) &&
      outputSize(r.height, r.kernel[0], r.stride[0], r.padding[0], r.dilation[0]) >= 1 &&
      outputSize(r.width, r.kernel[1], r.stride[1], r.padding[1], r.dilation[1]) >= 1,
  ) as fc.Arbitrary<Rect>;

describe("conv2d with [h, w] pairs that differ", () => {
  test("conv2d() gives PyTorch's output size and the values of a convolution written from its definition", async () => {
    await fc.assert(
      fc.asyncProperty(arbRect, fc.integer(), async (r, seed) => {
        const xShape = [r.batch, r.inChannels, r.height, r.width];
        const wShape = [r.outChannels, r.inChannels, r.kernel[0], r.kernel[1]];
        const xValues = seededValues(
          seed,
          xShape.reduce((a, b) => a * b),
          -1,
          1,
        );
        const wValues = seededValues(
          seed + 1,
          wShape.reduce((a, b) => a * b),
          -1,
          1,
        );
        const expected = naiveConv2d(Float64Array.from(xValues), Float64Array.from(wValues), r);
        const y = conv2d(tensor(xValues, xShape), tensor(wValues, wShape), null, {
          stride: r.stride,
          padding: r.padding,
          dilation: r.dilation,
        });
        try {
          assert.deepEqual([...y.shape], expected.shape);
          assertClose(await y.toArray(), expected.data, toleranceFor("f32", r.inChannels * r.kernel[0] * r.kernel[1], 2));
        } finally {
          y.dispose();
        }
      }),
      { numRuns: fcRuns(25) },
    );
  });

  test("a 2×3 kernel with stride [2, 1], padding [0, 1] on a 3×4 ramp gives the values worked out by hand", async () => {
    // x = [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]; w = [[1, 0, 0], [0, 0, 1]] adds x[i, j − 1] and x[i + 1, j + 1];
    // out: ⌊(3 − 2)/2⌋ + 1 = 1 row, ⌊(4 + 2 − 3)/1⌋ + 1 = 4 columns; padding makes x[0, −1] and x[1, 4] zero
    const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [1, 1, 3, 4]);
    const w = tensor([1, 0, 0, 0, 0, 1], [1, 1, 2, 3]);
    const y = conv2d(x, w, null, { stride: [2, 1], padding: [0, 1] });
    assert.deepEqual([...y.shape], [1, 1, 1, 4]);
    assert.deepEqual(Array.from(await y.toArray()), [0 + 6, 1 + 7, 2 + 8, 3 + 0]);
    for (const t of [x, w, y]) t.dispose();
  });

  test("the gradient rule matches finite differences with differing kernel, stride, padding and dilation", async () => {
    const x = hostTensor(seededValues(3, 1 * 1 * 4 * 5, -1, 1), [1, 1, 4, 5]);
    const w = hostTensor(seededValues(4, 2 * 1 * 2 * 3, -1, 1), [2, 1, 2, 3]);
    const b = hostTensor(seededValues(5, 2, -1, 1), [2]);
    const attrs = conv2dAttrs({ stride: [2, 1], padding: [1, 0], dilation: [1, 2] }, true);
    await checkGradients(conv2dOp, [x, w, b], attrs, { tolerance: toleranceFor("f32", 6 * 50, 16) });
  });
});
