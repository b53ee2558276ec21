import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { testDevice } from "../testing/mod.ts";
import { tensor } from "../ops/creation/creation.ts";
import { add, neg } from "../ops/elementwise/elementwise_ops.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { Device } from "./device.ts";
import { markStableUniforms, PinnedBindGroups } from "./pinned_bind_groups.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

/** A kernel with one uniform and two storage bindings, compiled through the device's cache. */
function copyKernel() {
  return device.pipelines.get(
    "test_pinned_copy",
    () => `struct Params { scale: f32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(1) fn main() { y[0] = x[0] * p.scale; }`,
  );
}

function buffer(): GPUBuffer {
  return device.gpu.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });
}

describe("PinnedBindGroups", () => {
  test("get() reuses a bind group for the same stable parameters and buffers, and only then", () => {
    const pinned = new PinnedBindGroups(device.gpu);
    const kernel = copyKernel();
    const [a, b, c] = [buffer(), buffer(), buffer()];
    const stable = new Float32Array([2, 0, 0, 0]).buffer;
    markStableUniforms(stable);
    const first = pinned.get(kernel, stable, [{ buffer: a }, { buffer: b }]);
    assert.ok(first);
    assert.equal(pinned.get(kernel, stable, [{ buffer: a }, { buffer: b }]), first);
    assert.notEqual(pinned.get(kernel, stable, [{ buffer: b }, { buffer: a }]), first);
    assert.notEqual(pinned.get(kernel, stable, [{ buffer: a }, { buffer: c }]), first);
    assert.equal(pinned.hits, 1);
    // parameters nobody declared stable, and windows of buffers, are never pinned
    assert.equal(pinned.get(kernel, new Float32Array([2, 0, 0, 0]).buffer, [{ buffer: a }, { buffer: b }]), null);
    assert.equal(pinned.get(kernel, stable, [{ buffer: a, offset: 0, size: 16 }, { buffer: b }]), null);
    [a, b, c].forEach((x) => x.destroy());
  });

  test("get() falls back (null) once the uniform arena is full, and drops the oldest groups past the cap", () => {
    const pinned = new PinnedBindGroups(device.gpu, { arenaSlots: 1, maxArenas: 1, maxGroups: 2 });
    const kernel = copyKernel();
    const [a, b, c] = [buffer(), buffer(), buffer()];
    const [first, second] = [1, 2].map((scale) => {
      const params = new Float32Array([scale, 0, 0, 0]).buffer;
      markStableUniforms(params);
      return params;
    });
    const ab = pinned.get(kernel, first, [{ buffer: a }, { buffer: b }]);
    assert.ok(ab);
    assert.equal(pinned.get(kernel, second, [{ buffer: a }, { buffer: b }]), null);
    pinned.get(kernel, first, [{ buffer: b }, { buffer: c }]);
    pinned.get(kernel, first, [{ buffer: c }, { buffer: a }]);
    assert.notEqual(pinned.get(kernel, first, [{ buffer: a }, { buffer: b }]), ab, "the oldest group was dropped");
    [a, b, c].forEach((x) => x.destroy());
  });

  test("the arena grows by whole buffers up to its cap, and a group in a later arena reads its own parameters", async () => {
    const pinned = new PinnedBindGroups(device.gpu, { arenaSlots: 1, maxArenas: 2 });
    const kernel = copyKernel();
    const [x, y] = [0, 1].map(() =>
      device.gpu.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST }),
    );
    device.gpu.queue.writeBuffer(x!, 0, new Float32Array([1.5, 0, 0, 0]));
    const blocks = [2, 3, 4].map((scale) => {
      const params = new Float32Array([scale, 0, 0, 0]).buffer;
      markStableUniforms(params);
      return params;
    });
    const groups = blocks.map((params) => pinned.get(kernel, params, [{ buffer: x! }, { buffer: y! }]));
    assert.ok(groups[0] && groups[1], "slots in the first and the second arena");
    assert.equal(groups[2], null, "past two arenas of one slot");
    for (const [i, scale] of [2, 3].entries()) {
      const encoder = device.gpu.createCommandEncoder();
      const pass = encoder.beginComputePass();
      pass.setPipeline(kernel.pipeline);
      pass.setBindGroup(0, groups[i]!);
      pass.dispatchWorkgroups(1);
      pass.end();
      device.gpu.queue.submit([encoder.finish()]);
      assert.equal(new Float32Array(await device.queue.read(y!, 0, 4))[0], 1.5 * scale);
    }
    [x, y].forEach((b) => b!.destroy());
  });

  test("a chain of cached ops reuses bind groups and still computes the right values", async () => {
    const x = tensor([1, -2, 3, 0.5], [4]);
    const reusedBefore = device.queue.counters.reusedBindGroups;
    for (let rep = 0; rep < 4; rep++) {
      let y: Tensor = x;
      for (let i = 0; i < 40; i++) {
        const next = i % 2 === 0 ? neg(y) : add(y, 1);
        if (y !== x) y.dispose();
        y = next;
      }
      // 20 × (−y), 20 × (+1) alternating, starting with a negation: y ↦ −y + 1 twenty times
      const expected = [1, -2, 3, 0.5].map((v) => {
        let value = v;
        for (let k = 0; k < 20; k++) value = -value + 1;
        return value;
      });
      assert.deepEqual(Array.from(await y.toArray()), expected);
      y.dispose();
    }
    assert.ok(device.queue.counters.reusedBindGroups > reusedBefore, "later repetitions bind the pooled buffers again");
    x.dispose();
  });
});
