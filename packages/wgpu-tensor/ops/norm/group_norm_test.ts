import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { Device } from "../../device/device.ts";
import { type DType, f16BitsToF32, f32ToF16Bits } from "../../tensor/dtype.ts";
import { DTypeError, ShapeError } from "../../tensor/errors.ts";
import type { HostTensor } from "../../tensor/host_tensor.ts";
import { assertClose, checkAgainstReference, fcRuns, fromHost, randomHost, testDevice, toHost, toleranceFor } from "../../testing/mod.ts";
import { groupNorm, groupNormOp } from "./group_norm.ts";
import { groupNormLayout } from "./norm_layout.ts";
import { normCondition } from "./norm_reference.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

/** [N, C, *spatial] with C a multiple of the group count, and which affine parameters to pass. */
const arbGroupNorm = fc.record({
  batch: fc.integer({ min: 1, max: 3 }),
  numGroups: fc.constantFrom(1, 2, 3, 4, 8),
  perGroup: fc.constantFrom(1, 2, 3, 5),
  spatial: fc.array(fc.constantFrom<number>(1, 2, 3, 7, 8, 9, 16, 17), { maxLength: 2 }),
  hasWeight: fc.boolean(),
  hasBias: fc.boolean(),
  activation: fc.constantFrom("none" as const, "silu" as const),
  seed: fc.integer(),
});

function inputsFor(
  shape: number[],
  hasWeight: boolean,
  hasBias: boolean,
  seed: number,
  low = -2,
  high = 2,
  dtype: DType = "f32",
): HostTensor[] {
  const channels = shape[1];
  const inputs = [randomHost(shape, seed, { low, high, dtype })];
  if (hasWeight) inputs.push(randomHost([channels], seed + 1, { low: 0.5, high: 1.5, dtype }));
  if (hasBias) inputs.push(randomHost([channels], seed + 2, { dtype }));
  // randomHost's 1/1024 grid is not exact in f16 above 1: round as the upload will
  if (dtype === "f16") inputs.forEach((input) => input.data.forEach((v, i) => (input.data[i] = f16BitsToF32(f32ToF16Bits(v)))));
  return inputs;
}

describe("groupNorm", () => {
  test("groupNorm() matches the reference with and without affine and SiLU", async () => {
    await fc.assert(
      fc.asyncProperty(arbGroupNorm, async ({ batch, numGroups, perGroup, spatial, hasWeight, hasBias, activation, seed }) => {
        const shape = [batch, numGroups * perGroup, ...spatial];
        const inputs = inputsFor(shape, hasWeight, hasBias, seed);
        const groupLength = perGroup * spatial.reduce((a, b) => a * b, 1);
        // statistics are two sums over the group, x − mean amplifies the rounding of x by the
        // group's condition |x|·rstd, and SiLU adds exp's few-ULP error
        const condition = normCondition(inputs[0], groupNormLayout(shape, numGroups), 1e-5);
        const tolerance = toleranceFor("f32", groupLength, (activation === "silu" ? 8 : 2) * condition);
        const attrs = { numGroups, eps: 1e-5, hasWeight, hasBias, activation };
        await checkAgainstReference(groupNormOp, inputs, attrs, tolerance);
      }),
      { numRuns: fcRuns(20) },
    );
  });

  test("groupNorm() reads f16, keeps f32 statistics and stores f16 (with and without SiLU)", async (t) => {
    if (!device.hasF16) return t.diagnostic("no shader-f16 on this adapter");
    await fc.assert(
      fc.asyncProperty(arbGroupNorm, async ({ batch, numGroups, perGroup, spatial, hasWeight, hasBias, activation, seed }) => {
        const shape = [batch, numGroups * perGroup, ...spatial];
        const inputs = inputsFor(shape, hasWeight, hasBias, seed, -2, 2, "f16");
        const groupLength = perGroup * spatial.reduce((a, b) => a * b, 1);
        // the reference computes in f64 from the same (f16-exact) inputs, so the GPU's error is one
        // f16 rounding of outputs up to |x̂|·w + b ≈ 4 (4 ulps of f16 at 1, relative), plus the f32
        // statistics' error as in the f32 test
        const condition = normCondition(inputs[0], groupNormLayout(shape, numGroups), 1e-5);
        const f16 = toleranceFor("f16", 1, 4);
        const f32 = toleranceFor("f32", groupLength, (activation === "silu" ? 8 : 2) * condition);
        const attrs = { numGroups, eps: 1e-5, hasWeight, hasBias, activation };
        await checkAgainstReference(groupNormOp, inputs, attrs, { atol: f16.atol + f32.atol, rtol: f16.rtol + f32.rtol });
      }),
      { numRuns: fcRuns(8) },
    );
  });

  test("f16 groups whose sum of squares exceeds f16's range (65504) still normalise: the statistics are f32", async (t) => {
    if (!device.hasF16) return t.diagnostic("no shader-f16 on this adapter");
    // 2 groups of 4·32·32 = 4096 values in [6, 10]: Σx² ≈ 3.2e5 per group, past f16's largest value
    const inputs = inputsFor([1, 8, 32, 32], false, false, 31, 6, 10, "f16");
    const attrs = { numGroups: 2, eps: 1e-5, hasWeight: false, hasBias: false, activation: "none" as const };
    const condition = normCondition(inputs[0], groupNormLayout([1, 8, 32, 32], 2), 1e-5);
    const f16 = toleranceFor("f16", 1, 4);
    const f32 = toleranceFor("f32", 4096, 2 * condition);
    await checkAgainstReference(groupNormOp, inputs, attrs, { atol: f16.atol + f32.atol, rtol: f16.rtol + f32.rtol });
  });

  test("groupNorm() splits long groups across invocations and stays accurate", async () => {
    // 2 samples × 4 groups of 16·32·32 elements: few groups, long rows → chunked statistics
    const inputs = inputsFor([2, 64, 32, 32], true, true, 17);
    const attrs = { numGroups: 4, eps: 1e-5, hasWeight: true, hasBias: true, activation: "none" as const };
    await checkAgainstReference(groupNormOp, inputs, attrs, toleranceFor("f32", 16384, 2));
  });

  test("groupNorm() stays accurate on values with a large mean where E[x²] − E[x]² fails", async () => {
    const shape = [2, 8, 24, 24];
    const x = randomHost(shape, 23, { low: 999.5, high: 1000.5 });
    const attrs = { numGroups: 2, eps: 1e-5, hasWeight: false, hasBias: false, activation: "none" as const };
    const expected = groupNormOp.reference([x], attrs);
    // each output is O(1) but computed from values near 1000: allow ~1000·ε of input rounding
    const tolerance = { atol: 1000 * 2 ** -23 * 8, rtol: toleranceFor("f32", 2304, 2).rtol };
    assert.throws(() => assertClose(naiveNormalizeF32(x, 2 * 2, 4 * 24 * 24), expected.data, tolerance));
    const gpu = fromHost(x);
    const y = groupNorm(gpu, 2);
    assertClose((await toHost(y)).data, expected.data, tolerance);
    [gpu, y].forEach((t) => t.dispose());
  });

  test("a number as the last argument is eps, and SiLU can be fused", async () => {
    const host = inputsFor([1, 4, 3], true, true, 5);
    const [x, w, b] = host.map((h) => fromHost(h));
    const withEps = groupNorm(x, 2, w, b, 0.5);
    const fused = groupNorm(x, 2, w, b, { eps: 0.5, activation: "silu" });
    const attrs = { numGroups: 2, eps: 0.5, hasWeight: true, hasBias: true };
    assertClose(await withEps.toArray(), groupNormOp.reference(host, { ...attrs, activation: "none" }).data, toleranceFor("f32", 6, 2));
    assertClose(await fused.toArray(), groupNormOp.reference(host, { ...attrs, activation: "silu" }).data, toleranceFor("f32", 6, 8));
    [x, w, b, withEps, fused].forEach((t) => t.dispose());
  });

  test("bad group counts, affine shapes and dtypes are rejected before any GPU work", () => {
    const x = fromHost(randomHost([2, 6, 4], 1));
    const weight = fromHost(randomHost([5], 2));
    const ints = fromHost(randomHost([2, 6, 4], 3, { dtype: "i32" }));
    assert.throws(
      () => groupNorm(x, 4),
      (e: Error) =>
        e instanceof ShapeError &&
        e.message === "Cannot run groupNorm with 4 groups on [2, 6, 4]: 6 channels are not divisible into 4 groups",
    );
    assert.throws(() => groupNorm(x, 0), ShapeError);
    assert.throws(
      () => groupNorm(x, 3, weight),
      (e: Error) => e instanceof ShapeError && /weight has shape \[5\], expected \[6\]/.test(e.message),
    );
    assert.throws(() => groupNorm(ints, 3), DTypeError);
    assert.throws(
      () => groupNorm(fromHost(randomHost([6], 4)), 3),
      (e: Error) => e instanceof ShapeError && /it needs a tensor \[N, C, \*\]/.test(e.message),
    );
    assert.throws(() => groupNorm(x, 3, null, null, { activation: "gelu" as "silu" }), /supports "none" and "silu"/);
    [x, weight, ints].forEach((t) => t.dispose());
  });
});

/** (x − E[x]) / √(E[x²] − E[x]² + eps) per row with f32 rounding, as a naive kernel would do. */
function naiveNormalizeF32(x: HostTensor, rows: number, rowLength: number): Float64Array {
  const out = new Float64Array(x.data.length);
  for (let row = 0; row < rows; row++) {
    let sum = 0;
    let sumSquares = 0;
    for (let t = 0; t < rowLength; t++) {
      const v = x.data[row * rowLength + t];
      sum = Math.fround(sum + v);
      sumSquares = Math.fround(sumSquares + Math.fround(v * v));
    }
    const mean = Math.fround(sum / rowLength);
    const variance = Math.max(0, Math.fround(Math.fround(sumSquares / rowLength) - Math.fround(mean * mean)));
    const rstd = Math.fround(1 / Math.sqrt(variance + 1e-5));
    for (let t = 0; t < rowLength; t++) {
      const i = row * rowLength + t;
      out[i] = Math.fround(Math.fround(x.data[i] - mean) * rstd);
    }
  }
  return out;
}
