import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import type { Device } from "../device/device.ts";
import { testDevice } from "../testing/mod.ts";
import { BufferPool, bucketBytes, exactBytes } from "./buffer_pool.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

describe("BufferPool", () => {
  test("bucketBytes() rounds up by at most 25% above 256 bytes and never down", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 }), (size) => {
        const bucket = bucketBytes(size);
        assert.ok(bucket >= size, `${bucket} < ${size}`);
        if (size > 256) assert.ok(bucket <= size * 1.25 + 1, `${bucket} wastes more than 25% of ${size}`);
        assert.equal(bucket % 4, 0);
      }),
    );
  });

  test("bucketBytes() is monotonic, so a larger request never gets a smaller buffer", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 30 }), fc.integer({ min: 0, max: 2 ** 20 }), (a, delta) => {
        assert.ok(bucketBytes(a) <= bucketBytes(a + delta));
      }),
    );
  });

  test("a released buffer is reused only after the next submit", () => {
    const pool = new BufferPool(device.gpu);
    const first = pool.acquire(1000);
    pool.release(first);
    const beforeSubmit = pool.acquire(1000);
    assert.notEqual(beforeSubmit, first);
    pool.onSubmit();
    const afterSubmit = pool.acquire(1000);
    assert.equal(afterSubmit, first);
    pool.release(beforeSubmit);
    pool.release(afterSubmit);
    pool.onSubmit();
    pool.trim();
    assert.equal(pool.stats().pooledBytes, 0);
  });

  test("live, pooled and peak bytes follow acquires and releases", () => {
    const pool = new BufferPool(device.gpu);
    const a = pool.acquire(4096);
    const b = pool.acquire(8192);
    assert.deepEqual(pool.stats(), { liveBytes: 4096 + 8192, pooledBytes: 0, peakBytes: 4096 + 8192, liveBuffers: 2 });
    pool.release(a);
    pool.onSubmit();
    assert.deepEqual(pool.stats(), { liveBytes: 8192, pooledBytes: 4096, peakBytes: 4096 + 8192, liveBuffers: 1 });
    pool.release(b);
    pool.onSubmit();
    pool.trim();
    assert.deepEqual(pool.stats(), { liveBytes: 0, pooledBytes: 0, peakBytes: 4096 + 8192, liveBuffers: 0 });
  });

  test("pooled bytes above the cap are destroyed instead of kept", () => {
    const pool = new BufferPool(device.gpu, { capBytes: 10_000 });
    const buffers = Array.from({ length: 8 }, () => pool.acquire(4096));
    buffers.forEach((buffer) => pool.release(buffer));
    pool.onSubmit();
    assert.ok(pool.stats().pooledBytes <= 10_000 + 4096, `pooled ${pool.stats().pooledBytes}`);
    pool.trim();
  });

  test("exact buffers hold the data rounded up to 16 bytes, and go back to the GPU unless a bucket has their size", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1 << 20 }), (n) => {
        const size = exactBytes(n);
        return size >= n && size - n < 16 && size % 16 === 0;
      }),
    );
    const pool = new BufferPool(device.gpu);
    const odd = pool.acquire(1000, { exact: true }); // 1008 bytes: no bucket is that size
    const even = pool.acquire(1024, { exact: true }); // 1024 bytes: a bucket's size
    assert.deepEqual([odd.size, even.size], [1008, 1024]);
    assert.equal(pool.stats().liveBytes, 1008 + 1024);
    pool.release(odd);
    pool.release(even);
    pool.onSubmit();
    assert.equal(pool.stats().pooledBytes, 1024, "the 1008-byte buffer was destroyed, the 1024-byte one kept");
    assert.equal(pool.acquire(1000), even, "and a bucketed request reuses it");
    pool.trim();
  });
});
