import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { checkGradients } from "../../autograd/grad_check.ts";
import type { Device } from "../../device/device.ts";
import { tensor } from "../creation/creation.ts";
import { ShapeError } from "../../tensor/errors.ts";
import { checkAgainstReference, fcRuns, randomHost, testDevice, toleranceFor } from "../../testing/mod.ts";
import { conv2d, conv2dGradInputOp, conv2dGradWeightOp, conv2dOp } from "./conv2d.ts";
import { conv2dAttrs } from "./conv2d_geometry.ts";
import { checkVariantAgainstReference } from "../../testing/check_reference.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

/** Random convolution problems: strides 1–2, paddings 0–2, dilations 1–2, groups 1/2/depthwise, 1×1 to 3×3. */
const arbProblem = fc
  .record({
    batch: fc.integer({ min: 1, max: 2 }),
    groupsKind: fc.constantFrom("one", "two", "depthwise"),
    inPerGroup: fc.integer({ min: 1, max: 5 }),
    outPerGroup: fc.constantFrom(1, 3, 4, 8),
    height: fc.integer({ min: 1, max: 11 }),
    width: fc.integer({ min: 1, max: 13 }),
    kernel: fc.constantFrom(1, 2, 3),
    stride: fc.constantFrom(1, 2),
    padding: fc.integer({ min: 0, max: 2 }),
    dilation: fc.constantFrom(1, 2),
    hasBias: fc.boolean(),
    seed: fc.integer(),
  })
  .filter((p) => p.height + 2 * p.padding >= p.dilation * (p.kernel - 1) + 1 && p.width + 2 * p.padding >= p.dilation * (p.kernel - 1) + 1);

type Problem = typeof arbProblem extends fc.Arbitrary<infer P> ? P : never;

function problemTensors(p: Problem) {
  const groups = p.groupsKind === "one" ? 1 : p.groupsKind === "two" ? 2 : p.inPerGroup * 2;
  const inPerGroup = p.groupsKind === "depthwise" ? 1 : p.inPerGroup;
  const inChannels = inPerGroup * groups;
  const outChannels = p.outPerGroup * groups;
  const x = randomHost([p.batch, inChannels, p.height, p.width], p.seed);
  const w = randomHost([outChannels, inPerGroup, p.kernel, p.kernel], p.seed + 1);
  const b = randomHost([outChannels], p.seed + 2);
  const attrs = conv2dAttrs({ stride: p.stride, padding: p.padding, dilation: p.dilation, groups }, p.hasBias);
  return { x, w, b, attrs, reduction: inPerGroup * p.kernel * p.kernel };
}

describe("conv2d", () => {
  test("conv2d() matches the reference over strides, paddings, dilations and groups", async () => {
    await fc.assert(
      fc.asyncProperty(arbProblem, async (p) => {
        const { x, w, b, attrs, reduction } = problemTensors(p);
        await checkAgainstReference(conv2dOp, p.hasBias ? [x, w, b] : [x, w], attrs, toleranceFor("f32", reduction, 2));
      }),
      { numRuns: fcRuns(20) },
    );
  });

  test("the input and weight gradient kernels match their references", async () => {
    await fc.assert(
      fc.asyncProperty(arbProblem, async (p) => {
        const { x, w, attrs } = problemTensors(p);
        const y = conv2dOp.reference([x, w], { ...attrs, hasBias: false });
        const dy = randomHost(y.shape, p.seed + 5);
        const tolerance = toleranceFor("f32", 64, 4);
        await checkAgainstReference(conv2dGradInputOp, [dy, w], { ...attrs, shape: x.shape }, tolerance);
        await checkAgainstReference(conv2dGradWeightOp, [dy, x], { ...attrs, shape: w.shape }, toleranceFor("f32", y.data.length, 4));
      }),
      { numRuns: fcRuns(12) },
    );
  });

  test("conv2d's gradient rule matches finite differences", async () => {
    await fc.assert(
      fc.asyncProperty(arbProblem, async (p) => {
        const { x, w, b, attrs, reduction } = problemTensors({
          ...p,
          height: Math.min(p.height, 5),
          width: Math.min(p.width, 5),
          hasBias: true,
        });
        await checkGradients(conv2dOp, [x, w, b], { ...attrs, hasBias: true }, { tolerance: toleranceFor("f32", reduction * 50, 16) });
      }),
      { numRuns: fcRuns(4) },
    );
  });

  test("the portable kernels that GPUs get match the references too", async () => {
    await fc.assert(
      fc.asyncProperty(arbProblem, async (p) => {
        const { x, w, b, attrs, reduction } = problemTensors(p);
        const gpu = { isCpuAdapter: false };
        await checkVariantAgainstReference(conv2dOp, p.hasBias ? [x, w, b] : [x, w], attrs, toleranceFor("f32", reduction, 2), gpu);
        const y = conv2dOp.reference([x, w], { ...attrs, hasBias: false });
        const dy = randomHost(y.shape, p.seed + 5);
        await checkVariantAgainstReference(conv2dGradInputOp, [dy, w], { ...attrs, shape: x.shape }, toleranceFor("f32", 64, 4), gpu);
        await checkVariantAgainstReference(
          conv2dGradWeightOp,
          [dy, x],
          { ...attrs, shape: w.shape },
          toleranceFor("f32", y.data.length, 4),
          gpu,
        );
      }),
      { numRuns: fcRuns(6) },
    );
  });

  test("channel and pixel counts one below, at and above the kernels' 16-row and 32-column blocks", async () => {
    // [batch, in, out, height, width, kernel, stride, padding, groups]
    const cases = [
      [1, 3, 15, 4, 8, 3, 1, 1, 1],
      [2, 17, 16, 5, 13, 1, 1, 0, 1],
      [1, 4, 17, 11, 3, 3, 2, 1, 1],
      [1, 33, 33, 6, 11, 3, 1, 2, 1],
      [1, 8, 32, 9, 7, 3, 1, 1, 2],
    ];
    for (const [batch, cin, cout, height, width, kernel, stride, padding, groups] of cases) {
      const x = randomHost([batch, cin, height, width], cin);
      const w = randomHost([cout, cin / groups, kernel, kernel], cout);
      const b = randomHost([cout], 3);
      const attrs = conv2dAttrs({ stride, padding, groups }, true);
      const reduction = (cin / groups) * kernel * kernel;
      await checkAgainstReference(conv2dOp, [x, w, b], attrs, toleranceFor("f32", reduction, 2));
      const y = conv2dOp.reference([x, w], { ...attrs, hasBias: false });
      const dy = randomHost(y.shape, 5);
      await checkAgainstReference(conv2dGradInputOp, [dy, w], { ...attrs, shape: x.shape }, toleranceFor("f32", cout * kernel * kernel, 4));
      await checkAgainstReference(conv2dGradWeightOp, [dy, x], { ...attrs, shape: w.shape }, toleranceFor("f32", y.data.length, 4));
    }
  });

  test("f16 tensors are convolved in f32 and rounded once on store", async () => {
    await fc.assert(
      fc.asyncProperty(arbProblem, async (p) => {
        const { x, w, b, attrs, reduction } = problemTensors(p);
        const half = [x, w, b].map((t, i) => randomHost(t.shape, p.seed + 7 + i, { dtype: "f16" }));
        const tolerance = { atol: toleranceFor("f16").atol + toleranceFor("f32", reduction, 2).atol, rtol: toleranceFor("f16").rtol };
        await checkAgainstReference(conv2dOp, p.hasBias ? half : half.slice(0, 2), attrs, tolerance);
      }),
      { numRuns: fcRuns(4) },
    );
  });

  test("mismatched channels are rejected before any GPU work, naming both shapes", () => {
    const x = tensor(new Float32Array(2 * 3 * 4 * 4), [2, 3, 4, 4]);
    const w = tensor(new Float32Array(8 * 4 * 3 * 3), [8, 4, 3, 3]);
    assert.throws(
      () => conv2d(x, w),
      (e: unknown) =>
        e instanceof ShapeError &&
        /\[2, 3, 4, 4\] with weight \[8, 4, 3, 3\]: the weight expects 4 input channels, the input has 3/.test(e.message),
    );
    x.dispose();
    w.dispose();
  });
});
