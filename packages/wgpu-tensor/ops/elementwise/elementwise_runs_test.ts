// The run layout of elementwise kernels (vec4 or scalar units, several per invocation, runs that
// stop at row ends): shapes chosen to hit each path and its edges, against the plain-JS reference.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { checkAgainstReference, fcRuns, randomHost, testDevice, toleranceFor } from "../../testing/mod.ts";
import type { Device } from "../../device/device.ts";
import type { DType } from "../../tensor/dtype.ts";
import { elementwiseKernel } from "./elementwise_kernel.ts";
import { runLayout } from "./elementwise_layout.ts";
import { elementwiseOps } from "./elementwise_ops.ts";
import type { KernelPlan } from "../op_def.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

const CPU = { isCpuAdapter: true, hasF16: true, hasSubgroups: false, maxBindingBytes: 2 ** 27 };
const LAYOUT_OPTIONS = { unitsPerRun: 4, scalarsPerRun: 8 };

/**
 * An output shape whose innermost dimension is a multiple of 4 (vec4 path) or not (scalar path),
 * long enough for several runs per row and a short last run, plus one operand shape that
 * broadcasts to it: each dimension kept, set to 1, or dropped from the front.
 */
function arbCase(rowMultipleOf4: boolean): fc.Arbitrary<{ out: number[]; other: number[]; swap: boolean }> {
  const inner = rowMultipleOf4
    ? fc.integer({ min: 1, max: 45 }).map((k) => 4 * k)
    : fc.integer({ min: 1, max: 150 }).filter((n) => n % 4 !== 0);
  const outer = fc.array(fc.integer({ min: 1, max: 6 }), { maxLength: 3 });
  return fc.tuple(outer, inner).chain(([dims, last]) => {
    const out = [...dims, last];
    return fc.record({
      out: fc.constant(out),
      other: fc
        .tuple(fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }), fc.nat({ max: out.length }))
        .map(([ones, drop]) => out.map((d, i) => (ones[i] ? 1 : d)).slice(drop)),
      swap: fc.boolean(),
    });
  });
}

async function checkBinary(
  name: "add" | "sub" | "mul",
  out: number[],
  other: number[],
  swap: boolean,
  seed: number,
  dtype: DType,
): Promise<void> {
  const isInt = dtype === "i32" || dtype === "u32";
  const range = dtype === "u32" ? { low: 0, high: 1000 } : isInt ? { low: -1000, high: 1000 } : { low: -2, high: 2 };
  const a = randomHost(out, seed, { dtype, ...range });
  const b = randomHost(other, seed + 1, { dtype, ...range });
  const inputs = swap ? [b, a] : [a, b];
  const tolerance = isInt ? { atol: 0, rtol: 0 } : toleranceFor(dtype, 1, 2);
  await checkAgainstReference(elementwiseOps[name], inputs, { scalars: [null, null] }, tolerance);
}

describe("elementwise runs", () => {
  test("runLayout() uses vec4 units when rows are a multiple of 4 long and scalars otherwise", () => {
    const perChannel = runLayout(
      [2, 320, 64, 64],
      [
        [2, 320, 64, 64],
        [2, 320, 1, 1],
      ],
      LAYOUT_OPTIONS,
    );
    assert.equal(perChannel.width, 4);
    assert.equal(perChannel.rowLength, 4096);
    assert.deepEqual(perChannel.outerShape, [640]);
    assert.deepEqual(
      perChannel.operands.map((o) => o.access),
      ["flat", "splat"],
    );
    const odd = runLayout([5, 7], [[5, 7], [7]], LAYOUT_OPTIONS);
    assert.equal(odd.width, 1);
    assert.equal(odd.unitsPerRun, 8);
    assert.deepEqual(
      odd.operands.map((o) => o.access),
      ["flat", "row"],
    );
    assert.deepEqual(odd.operands[1].outerStrides, [0]);
  });

  test("runLayout() treats a one-element output as one flat row of one element", () => {
    const single = runLayout([1, 1, 1], [[1, 1, 1], [1], []], LAYOUT_OPTIONS);
    assert.equal(single.rowLength, 1);
    assert.equal(single.rows, 1);
    assert.deepEqual(
      single.operands.map((o) => o.access),
      ["flat", "flat", "flat"],
    );
  });

  test("elementwiseKernel() keys name the access pattern and unit width, not the shapes", () => {
    const spec = (outShape: number[], other: number[]) => ({
      name: "add",
      expression: ([a, b]: string[]) => `(${a} + ${b})`,
      outShape,
      inDType: "f32" as const,
      outDType: "f32" as const,
      operands: [
        { tensor: 0, shape: outShape },
        { tensor: 1, shape: other },
      ],
    });
    assert.equal(elementwiseKernel(spec([2, 8, 16], [2, 8, 1]), CPU).key, "elementwise_add_f32_f32_fb_r2_w4x4");
    assert.equal(elementwiseKernel(spec([3, 5, 12], [3, 5, 1]), CPU).key, "elementwise_add_f32_f32_fb_r2_w4x4");
    assert.equal(elementwiseKernel(spec([3, 7], [7]), CPU).key, "elementwise_add_f32_f32_fr_r2_w1x8");
    assert.equal(elementwiseKernel(spec([3, 7], [7]), { isCpuAdapter: false }).key, "elementwise_add_f32_f32_fr_r2_w1x1");
  });

  test("cached plans keep number operands apart, -0 from 0 included", async () => {
    const spec = { shape: [8], dtype: "f32" as const };
    const plan = (value: number) => elementwiseOps.mul.kernel([spec], { scalars: [null, value] }, spec, CPU) as KernelPlan;
    assert.equal(plan(2), plan(2));
    assert.notEqual(plan(2), plan(3));
    const zero = new Float32Array(plan(0).params);
    const negativeZero = new Float32Array(plan(-0).params);
    assert.ok(
      zero.some((v, i) => Object.is(v, 0) && Object.is(negativeZero[i], -0)),
      "the -0 plan must carry -0 in its uniforms",
    );
    const x = randomHost([8], 5);
    for (const value of [2, 3, -1.5]) {
      await checkAgainstReference(elementwiseOps.mul, [x], { scalars: [null, value] }, toleranceFor("f32"));
    }
  });

  test("vec4 runs match the reference under broadcasting, with short last runs", async () => {
    await fc.assert(
      fc.asyncProperty(arbCase(true), fc.integer(), async ({ out, other, swap }, seed) => {
        await checkBinary("add", out, other, swap, seed, "f32");
        await checkBinary("sub", out, other, swap, seed, "f32");
      }),
      { numRuns: fcRuns(10) },
    );
  });

  test("scalar runs match the reference when rows are not a multiple of 4 long", async () => {
    await fc.assert(
      fc.asyncProperty(arbCase(false), fc.integer(), async ({ out, other, swap }, seed) => {
        await checkBinary("mul", out, other, swap, seed, "f32");
      }),
      { numRuns: fcRuns(10) },
    );
  });

  test("flat sizes around the run and vec4 widths match the reference", async () => {
    const sizes = fc.oneof(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 5000 }));
    await fc.assert(
      fc.asyncProperty(sizes, fc.integer(), async (size, seed) => {
        const x = randomHost([size], seed, { low: -3, high: 3 });
        await checkAgainstReference(elementwiseOps.silu, [x], { scalars: [null] }, toleranceFor("f32", 1, 2));
        await checkAgainstReference(elementwiseOps.sub, [x], { scalars: [1.5, null] }, toleranceFor("f32", 1, 2));
      }),
      { numRuns: fcRuns(10) },
    );
  });

  test("one-element tensors broadcast against each other and against numbers", async () => {
    for (const [shapeA, shapeB] of [
      [[], []],
      [[1, 1, 1], [1]],
      [[1], [1, 1]],
    ]) {
      const a = randomHost(shapeA, 3);
      const b = randomHost(shapeB, 4);
      await checkAgainstReference(elementwiseOps.add, [a, b], { scalars: [null, null] }, toleranceFor("f32"));
      await checkAgainstReference(elementwiseOps.clamp, [a], { scalars: [null, -0.5, 0.25] }, toleranceFor("f32"));
    }
  });

  test("where() mixes flat, row and splat operands in one run", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer(),
        async (n, c, w, seed) => {
          const condition = randomHost([n, c, w], seed);
          condition.data.forEach((v, i) => (condition.data[i] = v > 0 ? 1 : 0));
          const row = randomHost([w], seed + 1); // contiguous along the row, same for every n, c
          const perChannel = randomHost([c, 1], seed + 2); // constant along the row
          await checkAgainstReference(
            elementwiseOps.where,
            [condition, row, perChannel],
            { scalars: [null, null, null] },
            toleranceFor("f32"),
          );
        },
      ),
      { numRuns: fcRuns(8) },
    );
  });

  test("f16 vec4 and scalar runs compute in f32 and round once on store", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.boolean().chain((isVec) => arbCase(isVec)),
        fc.integer(),
        async ({ out, other, swap }, seed) => {
          await checkBinary("add", out, other, swap, seed, "f16");
          const x = randomHost(out, seed + 2, { dtype: "f16" });
          await checkAgainstReference(elementwiseOps.silu, [x], { scalars: [null] }, toleranceFor("f16", 1, 2));
        },
      ),
      { numRuns: fcRuns(6) },
    );
  });

  test("i32 and u32 vec4 and scalar runs are exact", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.boolean().chain((isVec) => arbCase(isVec)),
        fc.integer(),
        async ({ out, other, swap }, seed) => {
          await checkBinary("add", out, other, swap, seed, "i32");
          await checkBinary("mul", out, other, swap, seed, "u32");
          const x = randomHost(out, seed + 3, { dtype: "i32", low: -100, high: 100 });
          await checkAgainstReference(elementwiseOps.sub, [x], { scalars: [7, null] }, { atol: 0, rtol: 0 });
        },
      ),
      { numRuns: fcRuns(6) },
    );
  });
});
