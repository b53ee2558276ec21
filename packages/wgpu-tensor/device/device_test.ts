import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { tensor } from "../ops/creation/creation.ts";
import { add } from "../ops/elementwise/elementwise_ops.ts";
import { runProgram } from "../ops/run_op.ts";
import { DisposedError, ShapeError } from "../tensor/errors.ts";
import { Tensor } from "../tensor/tensor.ts";
import { Params } from "../wgsl/params.ts";
import { Device } from "./device.ts";
import { DeviceDestroyedError, GpuError, KernelCompileError } from "./errors.ts";

let device: Device;
before(async () => {
  device = await Device.create();
  Device.setDefault(device);
});
after(() => device.destroy());

describe("Device", () => {
  test("create() finds an adapter and requests its real buffer limits", () => {
    assert.ok(device.adapter.description.length > 0);
    assert.ok(device.limits.maxStorageBufferBindingSize >= 128 * 2 ** 20);
    assert.ok(device.limits.maxBufferSize >= device.limits.maxStorageBufferBindingSize);
  });

  test("a shape error is thrown before anything is recorded", () => {
    const a = tensor([1, 2, 3]);
    const b = tensor([1, 2]);
    const before = device.queue.counters.dispatches;
    assert.throws(
      () => add(a, b),
      (error: unknown) => error instanceof ShapeError && /Cannot broadcast \[3\] with \[2\] in add/.test(error.message),
    );
    assert.equal(device.queue.counters.dispatches, before);
    a.dispose();
    b.dispose();
  });

  test("using a disposed tensor throws DisposedError naming the op", () => {
    const a = tensor([1, 2, 3]);
    a.dispose();
    assert.throws(
      () => add(a, 1),
      (error: unknown) => error instanceof DisposedError && /Cannot run add/.test(error.message),
    );
  });

  test("a WGSL compile error surfaces as KernelCompileError with the kernel key and source", async () => {
    const out = Tensor.empty([4], "f32", device);
    const params = new Params().u32("size", 4);
    runProgram(
      device,
      {
        key: "broken_kernel_for_test",
        wgsl: () => `${params.struct()}@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(1) fn main() { y[0] = undefined_name + f32(p.size); }`,
        params: params.pack(),
        workgroups: [1, 1, 1],
        bindings: ["output"],
      },
      [],
      out.buffer,
    );
    await assert.rejects(device.sync(), (error: unknown) => {
      return (
        error instanceof KernelCompileError &&
        error.key === "broken_kernel_for_test" &&
        error.compilerMessages.some((line) => line.includes("undefined_name")) &&
        error.source.includes("undefined_name")
      );
    });
    await device.sync().catch(() => {}); // drain any follow-on validation error of the failed pipeline
    out.dispose();
  });

  test("a validation error in submitted work surfaces as GpuError at the next sync", async () => {
    const params = new Params().u32("size", 4);
    const out = Tensor.empty([4], "f32", device);
    // declares two storage bindings but the plan binds one: bind group creation fails validation
    runProgram(
      device,
      {
        key: "binding_mismatch_for_test",
        wgsl: () => `${params.struct()}@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(1) fn main() { y[0] = x[0] + f32(p.size); }`,
        params: params.pack(),
        workgroups: [1, 1, 1],
        bindings: ["output"],
      },
      [],
      out.buffer,
    );
    await assert.rejects(device.sync(), (error: unknown) => error instanceof GpuError);
    out.dispose();
  });

  test("a destroyed device refuses new work with a clear error", async () => {
    const other = await Device.create();
    other.destroy();
    assert.throws(() => tensor([1], [1], { device: other }), /device was destroyed/);
  });

  test("reading a tensor of a destroyed device rejects with DeviceDestroyedError, before or during the read", async () => {
    const other = await Device.create();
    const before = tensor([1, 2], [2], { device: other });
    const during = tensor([3, 4], [2], { device: other });
    const reading = during.toArray();
    other.destroy();
    const isDestroyedError = (op: string) => (error: unknown) =>
      error instanceof DeviceDestroyedError && error.message === `Cannot run ${op}: the device was destroyed`;
    await assert.rejects(reading, isDestroyedError("toArray"));
    await assert.rejects(before.toArray(), isDestroyedError("toArray"));
    await assert.rejects(other.sync(), isDestroyedError("sync"));
    assert.throws(() => tensor([1], [1], { device: other }), isDestroyedError("tensor"));
  });

  test("Node exits by itself once the device is destroyed", () => {
    const script = fileURLToPath(new URL("../test/exit_probe_child.ts", import.meta.url));
    const result = spawnSync(process.execPath, ["--import", "tsx", script], { encoding: "utf8", timeout: 30_000 });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /result 6/);
  });
});
