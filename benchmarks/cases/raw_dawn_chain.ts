import type { Device, Tensor } from "@spo/wgpu-tensor";
import { kernelContext } from "@spo/wgpu-tensor";
import { elementwiseOps } from "@spo/wgpu-tensor";
import type { KernelPlan } from "@spo/wgpu-tensor";
import type { Side } from "../harness/bench_case.ts";

/**
 * The lower bound for a chain of `count` unary ops: our own elementwise kernel (the same WGSL, the
 * same workgroups) dispatched straight through Dawn, the way our queue does it but with nothing
 * else: one pipeline, one bind group per dispatch, one encoder and compute pass, one submit at
 * the end. Two buffers ping-pong; the parameters are uploaded once.
 */
export function rawDawnChain(device: Device, input: Tensor, op: "neg", count: number): Side<GPUBuffer> & { dispose(): void } {
  const gpu = device.gpu;
  const spec = { shape: input.shape, dtype: input.dtype };
  const plan = elementwiseOps[op].kernel([spec], { scalars: [null] }, spec, kernelContext(device)) as KernelPlan;
  const pipeline = gpu.createComputePipeline({
    label: `raw_${plan.key}`,
    layout: "auto",
    compute: { module: gpu.createShaderModule({ label: `raw_${plan.key}`, code: plan.wgsl() }), entryPoint: "main" },
  });
  const layout = pipeline.getBindGroupLayout(0);
  const uniforms = gpu.createBuffer({
    label: "raw_params",
    size: Math.max(plan.params.byteLength, 16),
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  gpu.queue.writeBuffer(uniforms, 0, plan.params);
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const buffers = [0, 1].map((i) => gpu.createBuffer({ label: `raw_chain_${i}`, size: input.byteLength, usage }));
  return {
    label: "raw Dawn",
    gpu,
    run() {
      const encoder = gpu.createCommandEncoder();
      encoder.copyBufferToBuffer(input.buffer, 0, buffers[0], 0, input.byteLength);
      const pass = encoder.beginComputePass();
      pass.setPipeline(pipeline);
      for (let i = 0; i < count; i++) {
        const bindGroup = gpu.createBindGroup({
          layout,
          entries: [
            { binding: 0, resource: { buffer: uniforms } },
            { binding: 1, resource: { buffer: buffers[i % 2] } },
            { binding: 2, resource: { buffer: buffers[(i + 1) % 2] } },
          ],
        });
        pass.setBindGroup(0, bindGroup);
        pass.dispatchWorkgroups(...plan.workgroups);
      }
      pass.end();
      gpu.queue.submit([encoder.finish()]);
      return buffers[count % 2];
    },
    sync: () => gpu.queue.onSubmittedWorkDone(),
    async read(buffer) {
      const staging = gpu.createBuffer({ size: input.byteLength, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const encoder = gpu.createCommandEncoder();
      encoder.copyBufferToBuffer(buffer, 0, staging, 0, input.byteLength);
      gpu.queue.submit([encoder.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const values = new Float32Array(staging.getMappedRange().slice(0));
      staging.unmap();
      staging.destroy();
      return values;
    },
    release() {},
    dispose() {
      buffers.forEach((b) => b.destroy());
      uniforms.destroy();
    },
  };
}
