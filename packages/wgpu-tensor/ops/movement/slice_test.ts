import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import type { Device } from "../../device/device.ts";
import type { OpDef } from "../op_def.ts";
import { ShapeError } from "../../tensor/errors.ts";
import type { HostTensor } from "../../tensor/host_tensor.ts";
import { arbShape, checkAgainstReference, fcRuns, fromHost, randomHost, testDevice, toHost } from "../../testing/mod.ts";
import { collapsePadAxes } from "./pad_into_kernel.ts";
import { padInto, padIntoOp } from "./pad_into.ts";
import { narrow, resolveSlices, type SliceSpec, slice, sliceAxes, sliceOp } from "./slice.ts";

/** The op as a GPU adapter would plan it (one element per invocation), run here on lavapipe. */
function asOnGpu<A>(def: OpDef<A>): OpDef<A> {
  return { ...def, kernel: (inputs, attrs, output, context) => def.kernel(inputs, attrs, output, { ...context, isCpuAdapter: false }) };
}

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

/** A shape with Python-style ranges (negative and out-of-range bounds included) on some axes. */
const arbSliced = arbShape({ minRank: 1, maxRank: 4, maxDim: 20 }).chain((shape) =>
  fc
    .tuple(
      ...shape.map((dim, axis) =>
        fc.option(
          fc.record({
            axis: fc.constant(axis),
            start: fc.option(fc.integer({ min: -dim - 2, max: dim + 2 }), { nil: undefined }),
            end: fc.option(fc.integer({ min: -dim - 2, max: dim + 2 }), { nil: undefined }),
            step: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
          }),
          { nil: null },
        ),
      ),
    )
    .map((specs) => ({ shape, specs: specs.filter((s): s is NonNullable<typeof s> => s !== null) as SliceSpec[] })),
);

/** Python's `list[start:end:step]`, the truth for `resolveSlices`. */
function pythonRange(dim: number, spec: SliceSpec): number[] {
  const items = Array.from({ length: dim }, (_, i) => i);
  const norm = (v: number) => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
  const start = norm(spec.start ?? 0);
  const end = norm(spec.end ?? dim);
  return items.filter((i) => i >= start && i < end && (i - start) % (spec.step ?? 1) === 0);
}

/** Σ a·b over two host tensors: for adjoint checks. */
function dot(a: HostTensor, b: HostTensor): number {
  return a.data.reduce((sum, v, i) => sum + v * b.data[i], 0);
}

describe("slice and padInto", () => {
  test("resolveSlices() follows Python slicing for negative and out-of-range bounds", () => {
    fc.assert(
      fc.property(arbSliced, ({ shape, specs }) => {
        const attrs = resolveSlices("slice", shape, specs);
        for (const spec of specs) {
          const picked = pythonRange(shape[spec.axis], spec);
          assert.equal(attrs.shape[spec.axis], picked.length);
          if (picked.length > 0) assert.equal(attrs.starts[spec.axis], picked[0]);
        }
      }),
      { numRuns: fcRuns(200) },
    );
  });

  test("sliceOp matches the reference on random strided ranges", async () => {
    await fc.assert(
      fc.asyncProperty(arbSliced, fc.integer(), async ({ shape, specs }, seed) => {
        const attrs = resolveSlices("slice", shape, specs);
        await checkAgainstReference(sliceOp, [randomHost(shape, seed)], attrs, { atol: 0, rtol: 0 });
      }),
      { numRuns: fcRuns(16) },
    );
  });

  test("padIntoOp matches the reference and is the adjoint of the slice", async () => {
    await fc.assert(
      fc.asyncProperty(arbSliced, fc.integer(), fc.constantFrom(0, -2.5), async ({ shape, specs }, seed, value) => {
        const attrs = resolveSlices("slice", shape, specs);
        const small = randomHost(attrs.shape, seed);
        const padAttrs = { shape, starts: attrs.starts, steps: attrs.steps, value };
        await checkAgainstReference(padIntoOp, [small], padAttrs, { atol: 0, rtol: 0 });
        // <slice(x), g> = <x, padInto(g)> with value 0: the backward rules are each other's adjoint
        const x = randomHost(shape, seed + 1);
        const lhs = dot(sliceOp.reference([x], attrs), small);
        const rhs = dot(x, padIntoOp.reference([small], { ...padAttrs, value: 0 }));
        assert.ok(Math.abs(lhs - rhs) <= 1e-9 * (1 + Math.abs(lhs)), `${lhs} vs ${rhs}`);
      }),
      { numRuns: fcRuns(16) },
    );
  });

  test("the GPU-adapter variants (one element per invocation) of slice and padInto match too", async () => {
    await fc.assert(
      fc.asyncProperty(arbSliced, fc.integer(), async ({ shape, specs }, seed) => {
        const attrs = resolveSlices("slice", shape, specs);
        await checkAgainstReference(asOnGpu(sliceOp), [randomHost(shape, seed)], attrs, { atol: 0, rtol: 0 });
        const padAttrs = { shape, starts: attrs.starts, steps: attrs.steps, value: 3 };
        await checkAgainstReference(asOnGpu(padIntoOp), [randomHost(attrs.shape, seed)], padAttrs, { atol: 0, rtol: 0 });
      }),
      { numRuns: fcRuns(6) },
    );
  });

  test("collapsePadAxes() merges whole trailing axes into a step-1 axis", () => {
    const axes = collapsePadAxes([
      { outDim: 2, start: 0, step: 1, inDim: 2, inStride: 60 },
      { outDim: 3, start: 0, step: 1, inDim: 3, inStride: 20 },
      { outDim: 7, start: 1, step: 1, inDim: 5, inStride: 4 },
      { outDim: 4, start: 0, step: 1, inDim: 4, inStride: 1 },
    ]);
    assert.deepEqual(axes, [
      { outDim: 6, start: 0, step: 1, inDim: 6, inStride: 20 },
      { outDim: 28, start: 4, step: 1, inDim: 20, inStride: 1 },
    ]);
  });

  test("slice() and narrow() pick the documented elements", async () => {
    const x = fromHost({ shape: [6], dtype: "f32", data: Float64Array.from([0, 1, 2, 3, 4, 5]) });
    const a = slice(x, { axis: 0, start: 1, end: -1, step: 2 });
    const b = narrow(x, 0, -3, 2);
    assert.deepEqual([...(await toHost(a)).data], [1, 3]);
    assert.deepEqual([...(await toHost(b)).data], [3, 4]);
    assert.throws(() => narrow(x, 0, 4, 3), ShapeError);
    assert.throws(() => slice(x, { axis: 0, step: 0 }), /step 0 must be a positive integer/);
    for (const t of [x, a, b]) t.dispose();
  });

  test("the slice backward places dy into zeros of the input's shape", async () => {
    const x = fromHost(randomHost([5, 7], 4));
    x.requiresGrad = true;
    const y = sliceAxes(x, [
      { axis: 0, start: 1, end: 5, step: 3 },
      { axis: 1, start: -4 },
    ]);
    const dyHost = randomHost(y.shape, 9);
    const dy = fromHost(dyHost);
    const [dx] = y.gradNode!.backward(dy);
    const attrs = resolveSlices(
      "slice",
      [5, 7],
      [
        { axis: 0, start: 1, end: 5, step: 3 },
        { axis: 1, start: -4 },
      ],
    );
    const expected = padIntoOp.reference([dyHost], { shape: [5, 7], starts: attrs.starts, steps: attrs.steps });
    assert.deepEqual((await toHost(dx!)).data, expected.data);
    for (const t of [x, y, dy, dx!]) t.dispose();
  });

  test("padInto() rejects a placement that leaves the output", () => {
    const x = fromHost(randomHost([3], 1));
    assert.throws(() => padInto(x, { shape: [5], starts: [1], steps: [2] }), /past size 5/);
    assert.throws(() => padInto(x, { shape: [5, 1], starts: [0] }), ShapeError);
    x.dispose();
  });
});
