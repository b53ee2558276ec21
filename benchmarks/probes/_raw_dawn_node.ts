// What the raw-Dawn probes share: a dawn.node device with GPU timestamps and the adapter's full
// buffer limits, and timing of single-dispatch passes with repetitions interleaved across variants.
import { create, globals } from "webgpu";

// dawn.node crashes when its GPU object is collected while a device lives: keep them all
const keptAlive: unknown[] = [];

/** A dawn.node device with `timestamp-query` (plus `features`); `unsafe` turns bounds checks off. */
export async function rawDawnDevice(options: { unsafe?: boolean; features?: GPUFeatureName[] } = {}): Promise<GPUDevice> {
  Object.assign(globalThis, globals);
  const gpu = create([
    "disable-dawn-features=timestamp_quantization",
    ...(options.unsafe ? ["enable-dawn-features=allow_unsafe_apis,disable_robustness"] : []),
  ]);
  const adapter = (await gpu.requestAdapter())!;
  keptAlive.push(gpu, adapter);
  return await adapter.requestDevice({
    requiredFeatures: ["timestamp-query", ...(options.features ?? [])],
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
    },
  });
}

/** One variant to time: a pipeline, its bind group and its grid. */
export interface TimedDispatch {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  grid: readonly [number, number?, number?];
}

/**
 * GPU milliseconds of each variant's pass, `reps − 1` samples each (the first run compiles and is
 * dropped), the variants interleaved within every repetition so drifting load hits all alike.
 */
export async function timePasses(device: GPUDevice, variants: readonly TimedDispatch[], reps: number): Promise<number[][]> {
  const querySet = device.createQuerySet({ type: "timestamp", count: 2 });
  const resolve = device.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  const times = variants.map(() => [] as number[]);
  for (let rep = 0; rep < reps; rep++) {
    for (const [index, variant] of variants.entries()) {
      const staging = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass({ timestampWrites: { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } });
      pass.setPipeline(variant.pipeline);
      pass.setBindGroup(0, variant.bindGroup);
      pass.dispatchWorkgroups(...(variant.grid as [number, number?, number?]));
      pass.end();
      encoder.resolveQuerySet(querySet, 0, 2, resolve, 0);
      encoder.copyBufferToBuffer(resolve, 0, staging, 0, 16);
      device.queue.submit([encoder.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const stamps = new BigUint64Array(staging.getMappedRange().slice(0));
      staging.unmap();
      staging.destroy();
      if (rep > 0) times[index]!.push(Number(stamps[1]! - stamps[0]!) / 1e6);
    }
  }
  querySet.destroy();
  resolve.destroy();
  return times.map((samples) => samples.sort((a, b) => a - b));
}
