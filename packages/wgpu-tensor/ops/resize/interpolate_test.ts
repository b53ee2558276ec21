import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import type { Device } from "../../device/device.ts";
import type { OpDef } from "../op_def.ts";
import { DTypeError, ShapeError } from "../../tensor/errors.ts";
import type { HostTensor } from "../../tensor/host_tensor.ts";
import { assertClose, checkAgainstReference, fcRuns, fromHost, randomHost, testDevice, toHost, toleranceFor } from "../../testing/mod.ts";
import { interpolate, resizeGradOp, resizeOp, upsampleNearest } from "./interpolate.ts";
import { type InterpolateOptions, type ResizeMode, resolveResize } from "./resize_options.ts";

/** The op as a GPU adapter would plan it (one element per invocation), run here on lavapipe. */
function asOnGpu<A>(def: OpDef<A>): OpDef<A> {
  return { ...def, kernel: (inputs, attrs, output, context) => def.kernel(inputs, attrs, output, { ...context, isCpuAdapter: false }) };
}

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

const arbSide = fc.oneof(fc.constantFrom(1, 2, 3, 7, 8, 9, 16, 17), fc.integer({ min: 1, max: 40 }));

/** An NCHW shape and interpolate options: sizes up and down (1 included), or factors. */
const arbResize = fc
  .record({
    shape: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 3 }), arbSide, arbSide),
    mode: fc.constantFrom<ResizeMode>("nearest", "nearest-exact", "bilinear", "bicubic"),
    alignCorners: fc.boolean(),
    target: fc.oneof(
      fc.record({ size: fc.tuple(arbSide, fc.integer({ min: 1, max: 64 })) }),
      fc.record({
        scaleFactor: fc.tuple(fc.constantFrom(0.5, 1, 1.5, 2, 2.5, 3, 0.3), fc.constantFrom(0.5, 1, 2, 4, 1.7)),
        recomputeScaleFactor: fc.boolean(),
      }),
    ),
    seed: fc.integer(),
  })
  .map(({ shape, mode, alignCorners, target, seed }) => {
    const options: InterpolateOptions = {
      mode,
      ...target,
      alignCorners: mode === "bilinear" || mode === "bicubic" ? alignCorners : undefined,
    };
    return { shape: [...shape], options, seed };
  })
  .filter(({ shape, options }) => {
    if (!options.scaleFactor) return true;
    const [fh, fw] = options.scaleFactor as [number, number];
    return Math.floor(shape[2] * fh) > 0 && Math.floor(shape[3] * fw) > 0;
  });

function dot(a: HostTensor, b: HostTensor): number {
  return a.data.reduce((sum, v, i) => sum + v * b.data[i], 0);
}

/** Bicubic sums 16 products with weights up to ~1.3 in magnitude. */
const tolerance = toleranceFor("f32", 16, 2);

describe("interpolate", () => {
  test("interpolate() matches the reference in every mode, up and down, by size or factor", async () => {
    await fc.assert(
      fc.asyncProperty(arbResize, async ({ shape, options, seed }) => {
        await checkAgainstReference(resizeOp, [randomHost(shape, seed)], resolveResize("interpolate", shape, options), tolerance);
      }),
      { numRuns: fcRuns(40) },
    );
  });

  test("the GPU-adapter variant (one output per invocation) matches the reference too", async () => {
    await fc.assert(
      fc.asyncProperty(arbResize, async ({ shape, options, seed }) => {
        await checkAgainstReference(asOnGpu(resizeOp), [randomHost(shape, seed)], resolveResize("interpolate", shape, options), tolerance);
      }),
      { numRuns: fcRuns(12) },
    );
  });

  test("the resize gradient matches the reference adjoint, and the reference is the exact adjoint", async () => {
    await fc.assert(
      fc.asyncProperty(arbResize, async ({ shape, options, seed }) => {
        const attrs = resolveResize("interpolate", shape, options);
        const gradAttrs = { ...attrs, inH: shape[2], inW: shape[3] };
        const dy = randomHost([shape[0], shape[1], attrs.outH, attrs.outW], seed + 1);
        // each input pixel gathers from up to (taps/scale)² outputs
        const gathered =
          Math.ceil(4 * Math.max(1, attrs.scaleH > 0 ? 1 / attrs.scaleH : attrs.outH)) *
          Math.ceil(4 * Math.max(1, attrs.scaleW > 0 ? 1 / attrs.scaleW : attrs.outW));
        await checkAgainstReference(resizeGradOp, [dy], gradAttrs, toleranceFor("f32", gathered, 2));
        // <R x, dy> = <x, Rᵀ dy> in f64
        const x = randomHost(shape, seed + 2);
        const lhs = dot(resizeOp.reference([x], attrs), dy);
        const rhs = dot(x, resizeGradOp.reference([dy], gradAttrs));
        assert.ok(Math.abs(lhs - rhs) <= 1e-9 * (1 + Math.abs(lhs)), `${lhs} vs ${rhs}`);
      }),
      { numRuns: fcRuns(40) },
    );
  });

  test("extreme ratios gather from the right outputs: 1 to 61, 61 to 1, 3 to 64 and 64 to 3", async () => {
    for (const mode of ["nearest", "bilinear", "bicubic"] as const) {
      for (const [inSide, outSide] of [
        [1, 61],
        [61, 1],
        [3, 64],
        [64, 3],
      ]) {
        const shape = [1, 1, inSide, inSide];
        const attrs = resolveResize("interpolate", shape, { size: [outSide, outSide], mode });
        await checkAgainstReference(resizeOp, [randomHost(shape, inSide)], attrs, tolerance);
        const dy = randomHost([1, 1, outSide, outSide], outSide);
        await checkAgainstReference(resizeGradOp, [dy], { ...attrs, inH: inSide, inW: inSide }, toleranceFor("f32", 64 * 64, 2));
      }
    }
  });

  test("known values: bilinear ×2 of [0, 1] is [0, 0.25, 0.75, 1] and nearest ×2 repeats", async () => {
    const x = fromHost({ shape: [1, 1, 1, 2], dtype: "f32", data: Float64Array.from([0, 1]) });
    const bilinear = interpolate(x, { scaleFactor: [1, 2], mode: "bilinear" });
    const nearest = upsampleNearest(x, { scaleFactor: 2 });
    assert.deepEqual([...(await toHost(bilinear)).data], [0, 0.25, 0.75, 1]);
    assert.deepEqual([...(await toHost(nearest)).data], [0, 0, 1, 1, 0, 0, 1, 1]);
    for (const t of [x, bilinear, nearest]) t.dispose();
  });

  test("resolveResize() follows PyTorch's size and scale rules", () => {
    // a factor maps by 1/factor (not in/out): 5 · 1.5 → 7 outputs at scale 1/1.5
    const byFactor = resolveResize("interpolate", [1, 1, 5, 5], { scaleFactor: 1.5, mode: "nearest" });
    assert.deepEqual([byFactor.outH, byFactor.scaleH], [7, Math.fround(1 / 1.5)]);
    const recomputed = resolveResize("interpolate", [1, 1, 5, 5], { scaleFactor: 1.5, recomputeScaleFactor: true });
    assert.equal(recomputed.scaleH, Math.fround(5 / 7));
    const corners = resolveResize("interpolate", [1, 1, 5, 9], { size: [9, 1], mode: "bilinear", alignCorners: true });
    assert.deepEqual([corners.scaleH, corners.scaleW], [0.5, 0]);
  });

  test("the interpolate backward gives the adjoint for every input pixel", async () => {
    const host = randomHost([1, 2, 5, 6], 1);
    const x = fromHost(host);
    x.requiresGrad = true;
    const y = interpolate(x, { size: [8, 4], mode: "bicubic" });
    const dyHost = randomHost([1, 2, 8, 4], 2);
    const dy = fromHost(dyHost);
    const [dx] = y.gradNode!.backward(dy);
    const attrs = resolveResize("interpolate", host.shape, { size: [8, 4], mode: "bicubic" });
    const expected = resizeGradOp.reference([dyHost], { ...attrs, inH: 5, inW: 6 });
    assertClose((await toHost(dx!)).data, expected.data, toleranceFor("f32", 32, 2));
    for (const t of [x, y, dy, dx!]) t.dispose();
  });

  test("f16 images resize with f32 accumulation", async (t) => {
    if (!device.hasF16) {
      t.skip("the adapter has no shader-f16");
      return;
    }
    const attrs = resolveResize("interpolate", [1, 2, 9, 7], { size: [5, 12], mode: "bicubic" });
    await checkAgainstReference(resizeOp, [randomHost([1, 2, 9, 7], 3, { dtype: "f16" })], attrs, toleranceFor("f16", 16, 2));
    await checkAgainstReference(
      resizeGradOp,
      [randomHost([1, 2, 5, 12], 3, { dtype: "f16" })],
      { ...attrs, inH: 9, inW: 7 },
      toleranceFor("f16", 16, 2),
    );
  });

  test("interpolate() rejects bad ranks, dtypes and option combinations before any GPU work", () => {
    const x = fromHost(randomHost([2, 3, 4], 1));
    const image = fromHost(randomHost([1, 1, 4, 4], 1));
    const ints = fromHost(randomHost([1, 1, 2, 2], 1, { dtype: "i32" }));
    assert.throws(() => interpolate(x, { size: 8 }), ShapeError);
    assert.throws(() => interpolate(ints, { size: 8 }), DTypeError);
    assert.throws(() => interpolate(image, { size: 8, scaleFactor: 2 }), /exactly one of size and scaleFactor/);
    assert.throws(() => interpolate(image, { size: 8, mode: "nearest", alignCorners: true }), /only applies to bilinear and bicubic/);
    assert.throws(() => interpolate(image, { size: 2, mode: "bilinear", antialias: true }), /antialias is not implemented/);
    assert.throws(() => interpolate(image, { scaleFactor: 0.1 }), /must be positive integers/);
    for (const t of [x, image, ints]) t.dispose();
  });
});
