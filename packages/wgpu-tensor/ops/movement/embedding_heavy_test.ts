import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Device } from "../../device/device.ts";
import { tensor } from "../creation/creation.ts";
import { testDevice } from "../../testing/mod.ts";
import { embedding, embeddingGrad } from "./embedding.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

// SD1.5's CLIP token table: 49408 × 768 f32 = 151.8 MB, above lavapipe's 128 MiB binding limit
const ROWS = 49408;
const DIM = 768;

describe("embedding on a table larger than one storage binding", () => {
  test("embedding() reads rows on both sides of the window boundary of the CLIP token table", async () => {
    const limit = device.limits.maxStorageBufferBindingSize;
    assert.ok(ROWS * DIM * 4 > limit, `the table must exceed the binding limit ${limit} for this test to mean anything`);
    const values = new Float32Array(ROWS * DIM);
    for (let i = 0; i < values.length; i++) values[i] = (i % 100003) - 50000;
    const weight = tensor(values, [ROWS, DIM]);
    // the row that straddles the 128 MiB boundary, its neighbours, the last row, and two repeats
    const boundaryRow = Math.floor(limit / (DIM * 4));
    const idList = [0, boundaryRow - 1, boundaryRow, boundaryRow + 1, ROWS - 1, 7, boundaryRow];
    const ids = tensor(new Int32Array(idList), [idList.length]);
    const y = embedding(weight, ids);
    const got = await y.toArray();
    idList.forEach((id, n) => {
      const want = values.subarray(id * DIM, (id + 1) * DIM);
      assert.deepEqual(got.subarray(n * DIM, (n + 1) * DIM), want, `row ${id}`);
    });

    const dyValues = new Float32Array(idList.length * DIM).map((_, i) => (i % 13) - 6);
    const dy = tensor(dyValues, [idList.length, DIM]);
    const dw = embeddingGrad(dy, ids, ROWS);
    const grad = await dw.toArray();
    const expected = new Map<number, Float32Array>();
    idList.forEach((id, n) => {
      const row = expected.get(id) ?? new Float32Array(DIM);
      for (let d = 0; d < DIM; d++) row[d] += dyValues[n * DIM + d];
      expected.set(id, row);
    });
    for (const [id, row] of expected) assert.deepEqual(grad.subarray(id * DIM, (id + 1) * DIM), row, `gradient row ${id}`);
    let nonZeroElsewhere = 0;
    for (let r = 0; r < ROWS; r++) {
      if (expected.has(r)) continue;
      for (let d = 0; d < DIM; d++) if (grad[r * DIM + d] !== 0) nonZeroElsewhere++;
    }
    assert.equal(nonZeroElsewhere, 0);
    for (const t of [weight, ids, y, dy, dw]) t.dispose();
  });
});
