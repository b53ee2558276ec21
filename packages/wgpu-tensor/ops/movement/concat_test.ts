import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import type { Device } from "../../device/device.ts";
import type { OpDef } from "../op_def.ts";
import { DTypeError, ShapeError } from "../../tensor/errors.ts";
import { arbShape, checkAgainstReference, fcRuns, fromHost, randomHost, testDevice, toHost } from "../../testing/mod.ts";
import { arbDim } from "../../testing/arbitraries.ts";
import { concat, concatOp, stack } from "./concat.ts";
import { sliceOp, resolveSlices } from "./slice.ts";
import { permuteOp } from "./permute.ts";

/** The op as a GPU adapter would plan it (one element per invocation), run here on lavapipe. */
function asOnGpu<A>(def: OpDef<A>): OpDef<A> {
  return { ...def, kernel: (inputs, attrs, output, context) => def.kernel(inputs, attrs, output, { ...context, isCpuAdapter: false }) };
}

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

/** 1–6 shapes equal except on `axis`, where sizes (0 included) differ. */
const arbConcat = arbShape({ minRank: 1, maxRank: 4, maxDim: 16, maxSize: 4000 }).chain((shape) =>
  fc
    .tuple(fc.integer({ min: 0, max: shape.length - 1 }), fc.array(fc.oneof(arbDim(20), fc.constant(0)), { minLength: 1, maxLength: 6 }))
    .map(([axis, sizes]) => ({ axis, shapes: sizes.map((size) => shape.map((dim, a) => (a === axis ? size : dim))) })),
);

describe("concat and stack", () => {
  test("concatOp matches the reference for any number of inputs on any axis", async () => {
    await fc.assert(
      fc.asyncProperty(arbConcat, fc.integer(), fc.boolean(), async ({ axis, shapes }, seed, negativeAxis) => {
        const inputs = shapes.map((shape, i) => randomHost(shape, seed + i));
        const attrs = { axis: negativeAxis ? axis - shapes[0].length : axis };
        await checkAgainstReference(concatOp, inputs, attrs, { atol: 0, rtol: 0 });
      }),
      { numRuns: fcRuns(16) },
    );
  });

  test("the GPU-adapter variant (one element per invocation) matches the reference too", async () => {
    await fc.assert(
      fc.asyncProperty(arbConcat, fc.integer(), async ({ axis, shapes }, seed) => {
        await checkAgainstReference(
          asOnGpu(concatOp),
          shapes.map((shape, i) => randomHost(shape, seed + i)),
          { axis },
          { atol: 0, rtol: 0 },
        );
      }),
      { numRuns: fcRuns(6) },
    );
  });

  test("the concat backward hands each input its own slice of dy", async () => {
    const hosts = [randomHost([2, 3, 4], 1), randomHost([2, 5, 4], 2), randomHost([2, 1, 4], 3)];
    const xs = hosts.map((h) => fromHost(h));
    xs.forEach((x) => (x.requiresGrad = true));
    const y = concat(xs, 1);
    const dyHost = randomHost(y.shape, 4);
    const dy = fromHost(dyHost);
    const grads = y.gradNode!.backward(dy);
    let offset = 0;
    for (let i = 0; i < xs.length; i++) {
      const size = hosts[i].shape[1];
      const expected = sliceOp.reference([dyHost], resolveSlices("slice", dyHost.shape, [{ axis: 1, start: offset, end: offset + size }]));
      assert.deepEqual((await toHost(grads[i]!)).data, expected.data);
      offset += size;
    }
    for (const t of [...xs, y, dy, ...grads]) t!.dispose();
  });

  test("stack() inserts a new axis: stack on axis k equals concat then moving axis", async () => {
    const hosts = [randomHost([3, 4], 1), randomHost([3, 4], 2)];
    const xs = hosts.map((h) => fromHost(h));
    const y = stack(xs, 1);
    assert.deepEqual(y.shape, [3, 2, 4]);
    // stacking on axis 1 = concatenating on axis 0, viewing as [2, 3, 4], moving axis 0 to 1
    const joined = concatOp.reference(hosts, { axis: 0 });
    const expected = permuteOp.reference([{ ...joined, shape: [2, 3, 4] }], { dims: [1, 0, 2] });
    assert.deepEqual((await toHost(y)).data, expected.data);
    for (const t of [...xs, y]) t.dispose();
  });

  test("concat() and stack() reject mismatched shapes and dtypes", () => {
    const a = fromHost(randomHost([2, 3], 1));
    const b = fromHost(randomHost([3, 3], 2));
    const c = fromHost(randomHost([2, 3], 3, { dtype: "i32" }));
    assert.throws(() => concat([a, b], 1), /all dimensions but the joined one must match/);
    assert.throws(() => concat([a, c], 0), DTypeError);
    assert.throws(() => stack([a, b]), ShapeError);
    assert.throws(() => concat([]), ShapeError);
    for (const t of [a, b, c]) t.dispose();
  });
});
