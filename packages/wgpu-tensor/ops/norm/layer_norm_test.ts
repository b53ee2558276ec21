import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { Device } from "../../device/device.ts";
import { type DType, f16BitsToF32, f32ToF16Bits } from "../../tensor/dtype.ts";
import { DTypeError, ShapeError } from "../../tensor/errors.ts";
import type { HostTensor } from "../../tensor/host_tensor.ts";
import { arbShape, checkAgainstReference, fcRuns, fromHost, randomHost, testDevice, toleranceFor } from "../../testing/mod.ts";
import { layerNorm, layerNormOp } from "./layer_norm.ts";
import { layerNormLayout } from "./norm_layout.ts";
import { normCondition } from "./norm_reference.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

/** A shape of rank ≥ 1, how many trailing dims are normalised, and which affine parameters exist. */
const arbLayerNorm = arbShape({ minRank: 1, maxRank: 4, maxDim: 70 }).chain((shape) =>
  fc.record({
    shape: fc.constant(shape),
    normalizedRank: fc.integer({ min: 1, max: Math.min(2, shape.length) }),
    hasWeight: fc.boolean(),
    hasBias: fc.boolean(),
    seed: fc.integer(),
  }),
);

function inputsFor(
  shape: number[],
  normalizedRank: number,
  hasWeight: boolean,
  hasBias: boolean,
  seed: number,
  dtype: DType = "f32",
): HostTensor[] {
  const normalized = shape.slice(shape.length - normalizedRank);
  const inputs = [randomHost(shape, seed, { low: -3, high: 3, dtype })];
  if (hasWeight) inputs.push(randomHost(normalized, seed + 1, { low: 0.5, high: 1.5, dtype }));
  if (hasBias) inputs.push(randomHost(normalized, seed + 2, { dtype }));
  // randomHost's 1/1024 grid is not exact in f16 above 2: round as the upload will
  if (dtype === "f16") inputs.forEach((input) => input.data.forEach((v, i) => (input.data[i] = f16BitsToF32(f32ToF16Bits(v)))));
  return inputs;
}

describe("layerNorm", () => {
  test("layerNorm() matches the reference over random shapes and normalized dims", async () => {
    await fc.assert(
      fc.asyncProperty(arbLayerNorm, async ({ shape, normalizedRank, hasWeight, hasBias, seed }) => {
        const normalizedShape = shape.slice(shape.length - normalizedRank);
        const rowLength = normalizedShape.reduce((a, b) => a * b, 1);
        const inputs = inputsFor(shape, normalizedRank, hasWeight, hasBias, seed);
        const attrs = { normalizedShape, eps: 1e-5, hasWeight, hasBias, activation: "none" as const };
        // mean and variance are sums over the row (twice a sum's rounding), and x − mean amplifies
        // the rounding of x by the row's condition |x|·rstd
        const condition = normCondition(inputs[0], layerNormLayout(shape, normalizedRank), 1e-5);
        await checkAgainstReference(layerNormOp, inputs, attrs, toleranceFor("f32", rowLength, 2 * condition));
      }),
      { numRuns: fcRuns(16) },
    );
  });

  test("layerNorm() reads f16, keeps f32 statistics and stores f16", async () => {
    await fc.assert(
      fc.asyncProperty(arbLayerNorm, async ({ shape, normalizedRank, hasWeight, hasBias, seed }) => {
        const normalizedShape = shape.slice(shape.length - normalizedRank);
        const inputs = inputsFor(shape, normalizedRank, hasWeight, hasBias, seed, "f16");
        const attrs = { normalizedShape, eps: 1e-5, hasWeight, hasBias, activation: "none" as const };
        // outputs reach ~|x̂|·w + b ≈ 4: one f16 rounding of values that size, plus the f32
        // computation's error amplified by the row's condition
        const condition = normCondition(inputs[0], layerNormLayout(shape, normalizedRank), 1e-5);
        const f16 = toleranceFor("f16", 1, 4);
        const f32 = toleranceFor("f32", shape[shape.length - 1], 2 * condition);
        await checkAgainstReference(layerNormOp, inputs, attrs, { atol: f16.atol + f32.atol, rtol: f16.rtol + f32.rtol });
      }),
      { numRuns: fcRuns(6) },
    );
  });

  test("layerNorm() stays accurate on rows with a large mean", async () => {
    const x = randomHost([6, 1000], 8, { low: 999.5, high: 1000.5 });
    const attrs = { normalizedShape: [1000], eps: 1e-5, hasWeight: false, hasBias: false, activation: "none" as const };
    // outputs are O(1) computed from inputs near 1000: allow ~1000·ε of input rounding
    await checkAgainstReference(layerNormOp, [x], attrs, { atol: 1000 * 2 ** -23 * 8, rtol: toleranceFor("f32", 1000, 2).rtol });
  });

  test("a single number is the normalized shape and a number as the last argument is eps", async () => {
    const host = inputsFor([3, 5], 1, true, true, 2);
    const [x, w, b] = host.map((h) => fromHost(h));
    const y = layerNorm(x, 5, w, b, 0.25);
    const expected = layerNormOp.reference(host, { normalizedShape: [5], eps: 0.25, hasWeight: true, hasBias: true, activation: "none" });
    const actual = await y.toArray();
    expected.data.forEach((v, i) => assert.ok(Math.abs(actual[i] - v) < 1e-5, `element ${i}: ${actual[i]} vs ${v}`));
    [x, w, b, y].forEach((t) => t.dispose());
  });

  test("normalized shapes that are not the last dims, and mismatched affine parameters, are rejected", () => {
    const x = fromHost(randomHost([2, 3, 4], 1));
    const badWeight = fromHost(randomHost([3], 2));
    const halfWeight = fromHost(randomHost([4], 3, { dtype: "f16" }));
    assert.throws(
      () => layerNorm(x, [3]),
      (e: Error) =>
        e instanceof ShapeError &&
        e.message === "Cannot run layerNorm over [3] on [2, 3, 4]: the normalized shape must be the input's last dimensions",
    );
    assert.throws(() => layerNorm(x, [1, 2, 3, 4]), ShapeError);
    assert.throws(() => layerNorm(x, []), ShapeError);
    assert.throws(
      () => layerNorm(x, 4, badWeight),
      (e: Error) => e instanceof ShapeError && /weight has shape \[3\], expected \[4\]/.test(e.message),
    );
    assert.throws(
      () => layerNorm(x, 4, halfWeight),
      (e: Error) => e instanceof DTypeError && /must match/.test(e.message),
    );
    [x, badWeight, halfWeight].forEach((t) => t.dispose());
  });
});
