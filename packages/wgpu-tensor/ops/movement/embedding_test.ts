import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import type { Device } from "../../device/device.ts";
import { DTypeError } from "../../tensor/errors.ts";
import type { HostTensor } from "../../tensor/host_tensor.ts";
import { assertClose, checkAgainstReference, fcRuns, fromHost, randomHost, testDevice, toHost, toleranceFor } from "../../testing/mod.ts";
import { runOp } from "../run_op.ts";
import { embedding, embeddingGrad, embeddingGradOp, embeddingOp } from "./embedding.ts";
import { planWindows, runWindowedOp, type WindowedOpDef } from "./windowed_run.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

/** Ids in [-2, rows + 2): repeats and a few out-of-range ids (which read as zeros). */
function randomIds(shape: number[], rows: number, seed: number): HostTensor {
  return randomHost(shape, seed, { dtype: "i32", low: -2, high: rows + 2 });
}

async function checkWindowed<A>(def: WindowedOpDef<A>, inputs: HostTensor[], attrs: A, tolerance = { atol: 0, rtol: 0 }): Promise<void> {
  const expected = def.reference(inputs, attrs);
  const gpu = inputs.map((h) => fromHost(h));
  const output = runWindowedOp(def, gpu, attrs);
  try {
    const actual = await toHost(output);
    assert.deepEqual(actual.shape, expected.shape);
    assertClose(
      actual.data,
      expected.data,
      tolerance,
      `${def.name}(${inputs.map((t) => `[${t.shape}]`).join(", ")}; ${JSON.stringify(attrs)})`,
    );
  } finally {
    output.dispose();
    gpu.forEach((t) => t.dispose());
  }
}

/**
 * A table, ids and a window size: small windows (1–4 KiB) force the table across several bindings
 * (at most 8, within every device's storage-binding count).
 */
const arbLookup = fc
  .record({
    rows: fc.integer({ min: 1, max: 300 }),
    dim: fc.oneof(fc.constantFrom(1, 3, 8, 17, 64), fc.integer({ min: 1, max: 40 })),
    idsShape: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 0, maxLength: 2 }),
    windowBytes: fc.constantFrom(undefined, 1024, 2048, 4096),
    seed: fc.integer(),
  })
  .filter(({ rows, dim, windowBytes }) => windowBytes === undefined || rows * dim * 4 <= 8 * windowBytes);

describe("embedding", () => {
  test("planWindows() tiles the bytes with aligned, non-overlapping windows within the limit", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200000 }).map((n) => 2 * n),
        fc.integer({ min: 256, max: 40000 }),
        (totalBytes, maxBytes) => {
          const { stepBytes, windows } = planWindows(totalBytes, maxBytes, 256);
          let next = 0;
          for (const w of windows) {
            assert.equal(w.byteOffset, next);
            assert.equal(w.byteOffset % 256, 0);
            assert.ok(w.byteLength <= maxBytes && w.byteLength % 4 === 0);
            assert.ok(w === windows.at(-1) ? w.byteLength >= totalBytes - w.byteOffset : w.byteLength === stepBytes);
            next += w.byteLength;
          }
          assert.ok(next >= totalBytes && next < Math.max(totalBytes, 1) + 4);
        },
      ),
      { numRuns: fcRuns(300) },
    );
  });

  test("embedding() matches the reference, with the table split over binding windows", async () => {
    let splits = 0;
    await fc.assert(
      fc.asyncProperty(arbLookup, async ({ rows, dim, idsShape, windowBytes, seed }) => {
        if (windowBytes && rows * dim * 4 > windowBytes) splits++;
        const weight = randomHost([rows, dim], seed);
        await checkWindowed(embeddingOp, [weight, randomIds(idsShape, rows, seed + 1)], { windowBytes });
      }),
      { numRuns: fcRuns(24) },
    );
    assert.ok(splits > 0 || fcRuns(24) < 24, "no run used more than one window");
  });

  test("embeddingGrad() sums repeated ids exactly like the reference, across windows", async () => {
    await fc.assert(
      fc.asyncProperty(arbLookup, async ({ rows, dim, idsShape, windowBytes, seed }) => {
        const ids = randomIds(idsShape, rows, seed + 1);
        const dy = randomHost([...idsShape, dim], seed);
        // sums of up to N terms in position order, f32 on the GPU vs f64 in the reference
        const tolerance = toleranceFor("f32", ids.data.length);
        await checkWindowed(embeddingGradOp, [dy, ids], { numRows: rows, windowBytes }, tolerance);
      }),
      { numRuns: fcRuns(24) },
    );
  });

  test("a forced split really binds several windows: 100 rows of 24 f32 in 4 KiB windows", async () => {
    assert.equal(planWindows(100 * 96, 4096, device.limits.minStorageBufferOffsetAlignment).windows.length, 3);
    const weight = randomHost([100, 24], 5);
    const ids: HostTensor = { shape: [6], dtype: "i32", data: Float64Array.from([0, 39, 40, 79, 80, 99]) };
    await checkWindowed(embeddingOp, [weight, ids], { windowBytes: 4096 });
    await checkWindowed(embeddingGradOp, [randomHost([6, 24], 6), ids], { numRows: 100, windowBytes: 4096 });
  });

  test("f16 tables and u32 ids work through runOp below the binding limit", async () => {
    const weight = randomHost([50, 12], 1, { dtype: "f16" });
    const ids = randomHost([4, 3], 2, { dtype: "u32", low: 0, high: 55 });
    await checkAgainstReference(embeddingOp, [weight, ids], {}, { atol: 0, rtol: 0 });
    await checkAgainstReference(
      embeddingGradOp,
      [randomHost([4, 3, 12], 3, { dtype: "f16" }), ids],
      { numRows: 50 },
      toleranceFor("f16", 12),
    );
  });

  test("runOp refuses a table split into windows, and too many windows are refused by name", () => {
    const weight = fromHost(randomHost([100, 24], 5));
    const ids = fromHost({ shape: [1], dtype: "i32", data: Float64Array.from([3]) });
    assert.throws(() => runOp(embeddingOp, [weight, ids], { windowBytes: 4096 }), /run it with runWindowedOp/);
    assert.throws(() => embedding(weight, ids, { windowBytes: 256 }), /it needs 38 binding windows, the device allows/);
    weight.dispose();
    ids.dispose();
  });

  test("the embedding backward scatters dy into the weight's rows and gives ids no gradient", async () => {
    const weight = fromHost(randomHost([7, 5], 1));
    weight.requiresGrad = true;
    const idsHost: HostTensor = { shape: [2, 3], dtype: "i32", data: Float64Array.from([1, 6, 1, 0, 6, 6]) };
    const ids = fromHost(idsHost);
    const y = embedding(weight, ids);
    const dyHost = randomHost([2, 3, 5], 2);
    const dy = fromHost(dyHost);
    const [dw, dids] = y.gradNode!.backward(dy);
    assert.equal(dids, null);
    const expected = embeddingGradOp.reference([dyHost, idsHost], { numRows: 7 });
    assertClose((await toHost(dw!)).data, expected.data, toleranceFor("f32", 3));
    for (const t of [weight, ids, y, dy, dw!]) t.dispose();
  });

  test("embedding() rejects float ids and a non-matrix weight", () => {
    const weight = fromHost(randomHost([4, 3], 1));
    const floatIds = fromHost(randomHost([2], 1));
    assert.throws(() => embedding(weight, floatIds), DTypeError);
    assert.throws(() => embedding(floatIds, fromHost({ shape: [1], dtype: "i32", data: Float64Array.from([0]) })), /must be \[rows, dim\]/);
    assert.throws(() => embeddingGrad(weight, floatIds, 4), DTypeError);
    weight.dispose();
    floatIds.dispose();
  });
});
