import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import type { Device } from "../../device/device.ts";
import type { HostTensor } from "../../tensor/host_tensor.ts";
import { checkAgainstReference, fcRuns, randomHost, testDevice, toleranceFor } from "../../testing/mod.ts";
import { checkVariantAgainstReference } from "../../testing/check_reference.ts";
import { checkGradients } from "../../autograd/grad_check.ts";
import { type GroupNormAttrs, groupNormOp } from "./group_norm.ts";
import { type LayerNormAttrs, layerNormOp } from "./layer_norm.ts";
import { normInputGradOp, normStatsOp, normWeightGradOp } from "./norm_backward.ts";
import { groupNormLayout, layerNormLayout, type NormLayout } from "./norm_layout.ts";
import { normCondition, referenceNormStats } from "./norm_reference.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

/** f32 gradients vs f64 central differences: sums over a few dozen terms, a few ULPs each. */
const GRAD_TOLERANCE = { atol: 2e-4, rtol: 2e-3 };

/** A groupNorm layout ([N, C, *] with G groups) or a layerNorm one (last one or two dims). */
const arbLayout = fc.oneof(
  fc
    .record({
      batch: fc.integer({ min: 1, max: 3 }),
      numGroups: fc.constantFrom(1, 2, 4),
      perGroup: fc.constantFrom(1, 3, 4),
      spatial: fc.constantFrom<number[]>([], [1], [5], [3, 7], [16, 17]),
    })
    .map(({ batch, numGroups, perGroup, spatial }) => {
      const shape = [batch, numGroups * perGroup, ...spatial];
      return { shape, layout: groupNormLayout(shape, numGroups) };
    }),
  fc
    .record({
      leading: fc.constantFrom<number[]>([], [1], [3], [2, 5]),
      normalized: fc.constantFrom<number[]>([1], [2], [7], [33], [3, 11], [300]),
    })
    .map(({ leading, normalized }) => {
      const shape = [...leading, ...normalized];
      return { shape, layout: layerNormLayout(shape, normalized.length) };
    }),
);

/** The stats tensor as the GPU would hold it: the f64 reference rounded to f32. */
function statsFor(x: HostTensor, layout: NormLayout, eps: number): HostTensor {
  const stats = referenceNormStats(x, layout, eps);
  stats.data.set(Float32Array.from(stats.data));
  return stats;
}

describe("normalisation backward", () => {
  test("normStats() matches the reference mean and 1/√(var + eps) per row", async () => {
    await fc.assert(
      fc.asyncProperty(arbLayout, fc.integer(), async ({ shape, layout }, seed) => {
        const x = randomHost(shape, seed, { low: -2, high: 3 });
        // x − mean loses the digits of x that the rows agree on: scale by the rows' condition
        const condition = normCondition(x, layout, 1e-5);
        await checkAgainstReference(normStatsOp, [x], { layout, eps: 1e-5 }, toleranceFor("f32", layout.rowLength, 4 * condition));
      }),
      { numRuns: fcRuns(12) },
    );
  });

  test("normInputGrad() and normWeightGrad() match their references", async () => {
    await fc.assert(
      fc.asyncProperty(arbLayout, fc.integer(), fc.boolean(), async ({ shape, layout }, seed, hasWeight) => {
        const x = randomHost(shape, seed, { low: -2, high: 2 });
        const dy = randomHost(shape, seed + 1);
        const stats = statsFor(x, layout, 1e-5);
        const weight = randomHost([layout.channels], seed + 2, { low: 0.5, high: 1.5 });
        const inputs = hasWeight ? [x, dy, stats, weight] : [x, dy, stats];
        // dx subtracts two row means from g (cancellation), and x̂ carries the rows' condition
        const condition = normCondition(x, layout, 1e-5);
        const tolerance = toleranceFor("f32", layout.rowLength, 16 * condition);
        await checkAgainstReference(normInputGradOp, inputs, { layout, eps: 1e-5, hasWeight }, tolerance);
        const perChannel = (layout.rows * layout.rowLength) / Math.max(1, layout.channels);
        await checkAgainstReference(
          normWeightGradOp,
          [x, dy, stats],
          { layout, eps: 1e-5 },
          toleranceFor("f32", perChannel, 4 * condition),
        );
      }),
      { numRuns: fcRuns(12) },
    );
  });

  test("the backward kernels read f16 tensors and accumulate in f32", async () => {
    const shape = [2, 6, 5, 7];
    const layout = groupNormLayout(shape, 3);
    // values on a 1/64 grid below 2 are exact in f16
    const x = randomHost(shape, 5, { dtype: "f16", low: -1.5, high: 1.5 });
    const dy = randomHost(shape, 6, { dtype: "f16", low: -1, high: 1 });
    const weight = randomHost([6], 7, { dtype: "f16", low: 0.5, high: 1.5 });
    [x, dy, weight].forEach((t) => t.data.forEach((v, i) => (t.data[i] = Math.round(v * 64) / 64)));
    const stats = statsFor(x, layout, 1e-5);
    const condition = normCondition(x, layout, 1e-5);
    // one f16 rounding of each result, plus the f32 error of the row sums
    const tolerance = {
      atol: toleranceFor("f16", 1, 4).atol + toleranceFor("f32", 70, 16 * condition).atol,
      rtol: toleranceFor("f16", 1, 4).rtol,
    };
    await checkAgainstReference(normInputGradOp, [x, dy, stats, weight], { layout, eps: 1e-5, hasWeight: true }, tolerance);
    // dweight sums 70 terms of size ~1 per channel: values up to ~8, so 8× the absolute rounding
    await checkAgainstReference(
      normWeightGradOp,
      [x, dy, stats],
      { layout, eps: 1e-5 },
      { atol: 8 * tolerance.atol, rtol: tolerance.rtol },
    );
  });

  test("normWeightGrad() splits few channels with long sums and stays accurate", async () => {
    const shape = [8, 4, 64, 64];
    const layout = groupNormLayout(shape, 2);
    const x = randomHost(shape, 3);
    const dy = randomHost(shape, 4);
    const stats = statsFor(x, layout, 1e-5);
    await checkAgainstReference(normWeightGradOp, [x, dy, stats], { layout, eps: 1e-5 }, toleranceFor("f32", 8 * 4096, 4));
    await checkAgainstReference(
      normInputGradOp,
      [x, dy, stats],
      { layout, eps: 1e-5, hasWeight: false },
      toleranceFor("f32", 2 * 4096, 16),
    );
  });

  test("the GPU variants of the forward and backward kernels match the reference", async () => {
    await fc.assert(
      fc.asyncProperty(arbLayout, fc.integer(), async ({ shape, layout }, seed) => {
        const x = randomHost(shape, seed, { low: -2, high: 2 });
        const dy = randomHost(shape, seed + 1);
        const stats = statsFor(x, layout, 1e-5);
        const weight = randomHost([layout.channels], seed + 2, { low: 0.5, high: 1.5 });
        const condition = normCondition(x, layout, 1e-5);
        const gpu = { isCpuAdapter: false };
        const attrs = { layout, eps: 1e-5, hasWeight: true };
        await checkVariantAgainstReference(normStatsOp, [x], attrs, toleranceFor("f32", layout.rowLength, 4 * condition), gpu);
        await checkVariantAgainstReference(
          normInputGradOp,
          [x, dy, stats, weight],
          attrs,
          toleranceFor("f32", layout.rowLength, 16 * condition),
          gpu,
        );
        const perChannel = (layout.rows * layout.rowLength) / Math.max(1, layout.channels);
        await checkVariantAgainstReference(normWeightGradOp, [x, dy, stats], attrs, toleranceFor("f32", perChannel, 4 * condition), gpu);
      }),
      { numRuns: fcRuns(8) },
    );
    const shape = [2, 64, 16, 16];
    const inputs = [randomHost(shape, 1), randomHost([64], 2), randomHost([64], 3)];
    const attrs: GroupNormAttrs = { numGroups: 8, eps: 1e-5, hasWeight: true, hasBias: true, activation: "silu" };
    const condition = normCondition(inputs[0], groupNormLayout(shape, 8), 1e-5);
    await checkVariantAgainstReference(groupNormOp, inputs, attrs, toleranceFor("f32", 8 * 256, 8 * condition), { isCpuAdapter: false });
  });

  test("groupNorm's gradient rule (affine, SiLU) matches finite differences", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<[number[], number]>([[2, 4, 3], 2], [[1, 6, 2, 2], 3], [[2, 2, 5], 1], [[1, 4], 4]),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom("none" as const, "silu" as const),
        fc.integer(),
        async ([shape, numGroups], hasWeight, hasBias, activation, seed) => {
          const channels = shape[1];
          const inputs = [randomHost(shape, seed, { low: -2, high: 2 })];
          if (hasWeight) inputs.push(randomHost([channels], seed + 1, { low: 0.5, high: 1.5 }));
          if (hasBias) inputs.push(randomHost([channels], seed + 2));
          const attrs: GroupNormAttrs = { numGroups, eps: 1e-5, hasWeight, hasBias, activation };
          await checkGradients(groupNormOp, inputs, attrs, { tolerance: GRAD_TOLERANCE, seed });
        },
      ),
      { numRuns: fcRuns(8) },
    );
  });

  test("layerNorm's gradient rule matches finite differences", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<[number[], number[]]>(
          [[3, 5], [5]],
          [
            [2, 3, 4],
            [3, 4],
          ],
          [[7], [7]],
        ),
        fc.boolean(),
        fc.boolean(),
        fc.integer(),
        async ([shape, normalizedShape], hasWeight, hasBias, seed) => {
          const inputs = [randomHost(shape, seed, { low: -2, high: 2 })];
          if (hasWeight) inputs.push(randomHost(normalizedShape, seed + 1, { low: 0.5, high: 1.5 }));
          if (hasBias) inputs.push(randomHost(normalizedShape, seed + 2));
          const attrs: LayerNormAttrs = { normalizedShape, eps: 1e-5, hasWeight, hasBias, activation: "none" };
          await checkGradients(layerNormOp, inputs, attrs, { tolerance: GRAD_TOLERANCE, seed });
        },
      ),
      { numRuns: fcRuns(6) },
    );
  });
});
