import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { Device } from "../../device/device.ts";
import { DTypeError, ShapeError } from "../../tensor/errors.ts";
import type { HostTensor } from "../../tensor/host_tensor.ts";
import { checkAgainstReference, fcRuns, fromHost, randomHost, testDevice, toHost, toleranceFor } from "../../testing/mod.ts";
import { attentionOp, scaledDotProductAttention } from "./attention.ts";
import type { AttentionAttrs } from "./attention_dims.ts";
import { arbAttentionCase, type AttentionCase, attentionInputs } from "./_attention_testing.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

/**
 * Scores are D-term dot products and each output an Lk-term weighted sum, so rounding grows with
 * √(D + Lk) (toleranceFor); the factor 4 covers exp, which WGSL allows 3 + 2|x| ULPs for small |x|.
 * f16 storage is computed in f32, so its only error that matters is the final rounding to f16.
 */
function forwardTolerance(c: AttentionCase, dtype: "f32" | "f16" = "f32") {
  return dtype === "f16" ? toleranceFor("f16") : toleranceFor("f32", c.headSize + c.keys, 4);
}

async function checkCase(c: AttentionCase, seed: number, attrs: Partial<AttentionAttrs> = {}): Promise<void> {
  const { query, key, value, mask } = attentionInputs(c, seed);
  const inputs = mask ? [query, key, value, mask] : [query, key, value];
  const fullAttrs = { scale: 1 / Math.sqrt(c.headSize), isCausal: c.isCausal, ...attrs };
  await checkAgainstReference(attentionOp, inputs, fullAttrs, forwardTolerance(c));
}

function sizes(batch: number, heads: number, queries: number, keys: number, headSize: number, valueSize = headSize): AttentionCase {
  return { batch, heads, queries, keys, headSize, valueSize, isCausal: false, maskShape: null };
}

describe("scaledDotProductAttention", () => {
  test("scaledDotProductAttention() matches the reference on random shapes, causal or not", async () => {
    await fc.assert(
      fc.asyncProperty(arbAttentionCase(), fc.integer(), async (c, seed) => checkCase(c, seed)),
      { numRuns: fcRuns(10) },
    );
  });

  test("an additive mask broadcast from any trailing dimensions matches the reference, −∞ included", async () => {
    await fc.assert(
      fc.asyncProperty(arbAttentionCase({ withMask: true, headSizes: [8, 17] }), fc.integer(), async (c, seed) => checkCase(c, seed)),
      { numRuns: fcRuns(8) },
    );
  });

  test("larger head sizes (SD's 40 and 80, odd 77) match the reference, with cross attention over 77 keys", async () => {
    await checkCase(sizes(2, 2, 70, 77, 40), 1);
    await checkCase(sizes(1, 2, 9, 77, 80), 2);
    await checkCase({ ...sizes(1, 1, 66, 66, 77, 65), isCausal: true }, 3);
  });

  test("causal attention is top-left aligned: query 0 sees only key 0 whatever the lengths", async () => {
    for (const [queries, keys] of [
      [3, 5],
      [5, 3],
      [65, 64],
    ]) {
      const c = { ...sizes(1, 2, queries, keys, 8, 3), isCausal: true };
      await checkCase(c, 7);
      const { query, key, value } = attentionInputs(c, 7);
      const out = scaledDotProductAttention(fromHost(query), fromHost(key), fromHost(value), { isCausal: true });
      const values = await out.toArray();
      // row 0 of each head is value row 0: softmax over one visible key is 1 (up to exp's rounding)
      for (const head of [0, 1]) {
        for (let d = 0; d < 3; d++) {
          const expected = value.data[head * keys * 3 + d];
          assert.ok(
            Math.abs(values[head * queries * 3 + d] - expected) <= 1e-6,
            `head ${head}, ${d}: ${values[head * queries * 3 + d]} vs ${expected}`,
          );
        }
      }
    }
  });

  test("the scale defaults to 1/√D and scale 0 averages the values", async () => {
    const c = sizes(1, 1, 4, 6, 17, 2);
    const { query, key, value } = attentionInputs(c, 11);
    const [q, k, v] = [query, key, value].map((t) => fromHost(t));
    const byDefault = await toHost(scaledDotProductAttention(q, k, v));
    const explicit = attentionOp.reference([query, key, value], { scale: 1 / Math.sqrt(17), isCausal: false });
    assertCloseHost(byDefault, explicit, forwardTolerance(c));
    const averaged = await scaledDotProductAttention(q, k, v, { scale: 0 }).toArray();
    for (let d = 0; d < 2; d++) {
      let mean = 0;
      for (let j = 0; j < 6; j++) mean += value.data[j * 2 + d] / 6;
      for (let i = 0; i < 4; i++) assert.ok(Math.abs(averaged[i * 2 + d] - mean) < 1e-6, `row ${i}: ${averaged[i * 2 + d]} vs ${mean}`);
    }
  });

  test("f16 inputs are computed in f32 and rounded once on store", async () => {
    await fc.assert(
      fc.asyncProperty(arbAttentionCase({ headSizes: [8, 17] }), fc.integer(), async (c, seed) => {
        const { query, key, value } = attentionInputs(c, seed, "f16");
        const attrs = { scale: 1 / Math.sqrt(c.headSize), isCausal: c.isCausal };
        await checkAgainstReference(attentionOp, [query, key, value], attrs, forwardTolerance(c, "f16"));
      }),
      { numRuns: fcRuns(4) },
    );
  });

  test("an empty query gives an empty output without running a kernel", async () => {
    const { query, key, value } = attentionInputs(sizes(1, 2, 0, 5, 8), 3);
    const out = scaledDotProductAttention(fromHost(query), fromHost(key), fromHost(value));
    assert.deepEqual(out.shape, [1, 2, 0, 8]);
    assert.equal((await out.toArray()).length, 0);
  });

  test("bad shapes, dtypes and options throw before any GPU work, naming the shapes", () => {
    const t = (shape: number[], dtype: "f32" | "f16" | "i32" = "f32") => fromHost(randomHost(shape, 1, { dtype }));
    const dispatchesBefore = device.queue.counters.dispatches;
    const cases: [() => unknown, abstract new (...args: never[]) => Error, RegExp][] = [
      [
        () => scaledDotProductAttention(t([1, 2, 3, 8]), t([1, 2, 4, 7]), t([1, 2, 4, 8])),
        ShapeError,
        /query \[1, 2, 3, 8\], key \[1, 2, 4, 7\].*head sizes are 8 and 7/,
      ],
      [() => scaledDotProductAttention(t([1, 2, 3, 8]), t([1, 2, 4, 8]), t([1, 2, 5, 8])), ShapeError, /key and value lengths are 4 and 5/],
      [() => scaledDotProductAttention(t([2, 3, 8]), t([2, 4, 8]), t([2, 4, 8])), ShapeError, /query must be 4-D/],
      [
        () => scaledDotProductAttention(t([2, 2, 3, 8]), t([1, 2, 4, 8]), t([1, 2, 4, 8])),
        ShapeError,
        /batch and head dimensions must match/,
      ],
      [
        () => scaledDotProductAttention(t([1, 1, 3, 8]), t([1, 1, 4, 8]), t([1, 1, 4, 8]), { attnMask: t([3, 5]) }),
        ShapeError,
        /mask must broadcast to the scores \[1, 1, 3, 4\]/,
      ],
      [
        () => scaledDotProductAttention(t([1, 1, 3, 8]), t([1, 1, 4, 8]), t([1, 1, 4, 8]), { attnMask: t([3, 4]), isCausal: true }),
        TypeError,
        /both a mask and isCausal/,
      ],
      [() => scaledDotProductAttention(t([1, 1, 3, 8]), t([1, 1, 4, 8], "f16"), t([1, 1, 4, 8])), DTypeError, /key f16.*same float dtype/],
      [
        () => scaledDotProductAttention(t([1, 1, 3, 8], "i32"), t([1, 1, 4, 8], "i32"), t([1, 1, 4, 8], "i32")),
        DTypeError,
        /same float dtype/,
      ],
      [() => scaledDotProductAttention(t([1, 1, 2, 300]), t([1, 1, 2, 300]), t([1, 1, 2, 4])), ShapeError, /head sizes above 256/],
      [() => scaledDotProductAttention(t([1, 1, 2, 8]), t([1, 1, 0, 8]), t([1, 1, 0, 8])), ShapeError, /at least one key/],
      [
        () => scaledDotProductAttention(t([1, 1, 2, 8]), t([1, 1, 3, 8]), t([1, 1, 3, 8]), { scale: NaN }),
        RangeError,
        /scale must be a finite number/,
      ],
    ];
    for (const [run, errorClass, message] of cases) {
      assert.throws(run, (error: Error) => error instanceof errorClass && message.test(error.message), String(message));
    }
    assert.equal(device.queue.counters.dispatches, dispatchesBefore);
  });
});

function assertCloseHost(actual: HostTensor, expected: HostTensor, tolerance: { atol: number; rtol: number }): void {
  assert.deepEqual(actual.shape, expected.shape);
  actual.data.forEach((value, i) => {
    const allowed = tolerance.atol + tolerance.rtol * Math.abs(expected.data[i]);
    assert.ok(Math.abs(value - expected.data[i]) <= allowed, `element ${i}: ${value} vs ${expected.data[i]}`);
  });
}
