// Which difference between our queue and a raw Dawn chain costs host time: 100 dispatches of our
// neg kernel on [1024] recorded raw in several variants (uniforms at ring offsets, a ring upload
// before the submit, a fresh buffer per op, setPipeline per dispatch), and our library chain.
// Main-thread CPU time to record and submit (robust to machine load), and wall time: best, p25,
// median of interleaved repetitions.
//
//   node --conditions=@spo/source --import tsx benchmarks/probes/dispatch_variants_node.ts [reps] [only variants containing this]
import { readFileSync } from "node:fs";
import { Device, neg, tensor, Tensor } from "@spo/wgpu-tensor";
import { elementwiseOps } from "@spo/wgpu-tensor";
import type { KernelPlan } from "@spo/wgpu-tensor";
import { kernelContext, runOp, runProgram } from "@spo/wgpu-tensor";

const reps = Number(process.argv[2] ?? 40);
const OPS = 100;
const device = await Device.create();
const gpu = device.gpu;
const x = tensor(new Float32Array(1024), [1024]);
const spec = { shape: x.shape, dtype: x.dtype };
const plan = elementwiseOps.neg.kernel([spec], { scalars: [null] }, spec, kernelContext(device)) as KernelPlan;
const kernel = device.pipelines.get(plan.key, plan.wgsl);
const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
const buffers = Array.from({ length: OPS + 1 }, () => gpu.createBuffer({ size: 4096, usage }));
const uniform = gpu.createBuffer({ size: 256, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
const ring = gpu.createBuffer({ size: 256 * 256, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
const staging = new Uint8Array(256 * 256);
gpu.queue.writeBuffer(uniform, 0, plan.params);

interface Options {
  isRing: boolean;
  isUpload: boolean;
  isFresh: boolean;
  isSetPipelineEach: boolean;
}
function rawChain({ isRing, isUpload, isFresh, isSetPipelineEach }: Options): void {
  const encoder = gpu.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(kernel.pipeline);
  for (let i = 0; i < OPS; i++) {
    if (isSetPipelineEach) pass.setPipeline(kernel.pipeline);
    if (isUpload) staging.set(new Uint8Array(plan.params), i * 256);
    const source = isFresh ? buffers[i] : buffers[i % 2];
    const target = isFresh ? buffers[i + 1] : buffers[(i + 1) % 2];
    const bindGroup = gpu.createBindGroup({
      layout: kernel.layout,
      entries: [
        { binding: 0, resource: isRing ? { buffer: ring, offset: i * 256, size: 16 } : { buffer: uniform } },
        { binding: 1, resource: { buffer: source } },
        { binding: 2, resource: { buffer: target } },
      ],
    });
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(...plan.workgroups);
  }
  pass.end();
  if (isUpload) gpu.queue.writeBuffer(ring, 0, staging, 0, OPS * 256);
  gpu.queue.submit([encoder.finish()]);
}

function ourChain(): void {
  let y: Tensor = x;
  for (let i = 0; i < OPS; i++) {
    const next = neg(y);
    if (y !== x) y.dispose();
    y = next;
  }
  device.flush();
  y.dispose();
}

/** Our queue and tensors with the kernel plan made once: what is left besides planning. */
function ourQueueChain(): void {
  let y: Tensor = x;
  for (let i = 0; i < OPS; i++) {
    const next = Tensor.empty([1024]);
    device.queue.dispatch(kernel, plan.params, [{ buffer: y.buffer }, { buffer: next.buffer }], plan.workgroups);
    if (y !== x) y.dispose();
    y = next;
  }
  device.flush();
  y.dispose();
}

/** Steps from `ourQueueChain` towards `neg()`, one piece of runOp added at a time. */
function stepChain(step: "plan" | "plan+get" | "runProgram" | "runOp"): void {
  let y: Tensor = x;
  const context = kernelContext(device);
  for (let i = 0; i < OPS; i++) {
    let next: Tensor;
    if (step === "runOp") {
      next = runOp(elementwiseOps.neg, [y], { scalars: [null] });
    } else {
      next = Tensor.empty([1024]);
      const spec = { shape: y.shape, dtype: y.dtype };
      const stepPlan = elementwiseOps.neg.kernel([spec], { scalars: [null] }, spec, context) as KernelPlan;
      if (step === "runProgram") runProgram(device, stepPlan, [y.buffer], next.buffer);
      else {
        const stepKernel = step === "plan+get" ? device.pipelines.get(stepPlan.key, stepPlan.wgsl) : kernel;
        device.queue.dispatch(stepKernel, stepPlan.params, [{ buffer: y.buffer }, { buffer: next.buffer }], stepPlan.workgroups);
      }
    }
    if (y !== x) y.dispose();
    y = next;
  }
  device.flush();
  y.dispose();
}

/** Our queue alone, on the raw variants' buffers. */
function queueOnlyChain(): void {
  for (let i = 0; i < OPS; i++) {
    device.queue.dispatch(kernel, plan.params, [{ buffer: buffers[i] }, { buffer: buffers[i + 1] }], plan.workgroups);
  }
  device.flush();
}

const base = { isRing: false, isUpload: false, isFresh: false, isSetPipelineEach: false };
const VARIANTS: [string, () => void][] = [
  ["raw (as benchmarks/cases/raw_dawn_chain.ts)", () => rawChain(base)],
  ["raw, uniforms at ring offsets", () => rawChain({ ...base, isRing: true })],
  ["raw, ring + upload before submit", () => rawChain({ ...base, isRing: true, isUpload: true })],
  ["raw, ring + upload + fresh buffer per op", () => rawChain({ ...base, isRing: true, isUpload: true, isFresh: true })],
  ["raw, all of that + setPipeline per dispatch", () => rawChain({ isRing: true, isUpload: true, isFresh: true, isSetPipelineEach: true })],
  ["ours: queue.dispatch only", queueOnlyChain],
  ["ours: Tensor.empty + queue.dispatch + dispose", ourQueueChain],
  ["ours: + kernel plan per op", () => stepChain("plan")],
  ["ours: + pipelines.get", () => stepChain("plan+get")],
  ["ours: runProgram", () => stepChain("runProgram")],
  ["ours: runOp", () => stepChain("runOp")],
  ["ours: neg() chain", ourChain],
];
const only = process.argv[3];
if (only) VARIANTS.splice(0, VARIANTS.length, ...VARIANTS.filter(([name]) => name.includes(only)));
/**
 * CPU milliseconds of this (the main) thread: unlike wall time, barely moved by other processes
 * on the machine or by the driver's worker threads. Linux ticks are 10 ms, so sum many runs.
 */
function mainThreadCpuMs(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in 10 ms ticks
}

const times = VARIANTS.map(() => [] as number[]);
const cpu = VARIANTS.map(() => 0);
for (let rep = 0; rep < reps; rep++) {
  for (const [index, [, run]] of VARIANTS.entries()) {
    const cpuStart = mainThreadCpuMs();
    const started = performance.now();
    run();
    const micros = ((performance.now() - started) * 1000) / OPS;
    if (rep > 1) cpu[index] += mainThreadCpuMs() - cpuStart;
    await device.sync();
    if (rep > 1) times[index].push(micros);
  }
}
for (const [index, [name]] of VARIANTS.entries()) {
  const sorted = times[index].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.floor(q * (sorted.length - 1))].toFixed(1).padStart(6);
  const cpuMicros = ((cpu[index] / times[index].length) * 1000) / OPS;
  console.log(
    `${name.padEnd(48)} main-thread CPU ${cpuMicros.toFixed(1).padStart(6)} µs/op; wall best ${at(0)}, p25 ${at(0.25)}, median ${at(0.5)}`,
  );
}
buffers.forEach((b) => b.destroy());
x.dispose();
device.destroy();
