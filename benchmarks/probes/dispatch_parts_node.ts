// Host cost of one tiny op (neg on [1024]) split into its parts, each timed alone in batches of
// `ops`, interleaved, best batch of `reps` (the machine is shared; the best batch is the one that
// ran undisturbed). Batches are submitted and awaited between measurements.
//
//   node --conditions=@spo/source --import tsx benchmarks/probes/dispatch_parts_node.ts [reps] [ops]
import { Device, neg, tensor, Tensor } from "@spo/wgpu-tensor";
import { elementwiseOps } from "@spo/wgpu-tensor";
import type { KernelPlan } from "@spo/wgpu-tensor";
import { kernelContext, runOp } from "@spo/wgpu-tensor";

const reps = Number(process.argv[2] ?? 30);
const ops = Number(process.argv[3] ?? 500);
const device = await Device.create();
const x = tensor(new Float32Array(1024), [1024]);
const spec = { shape: x.shape, dtype: x.dtype };
const attrs = { scalars: [null] };
const plan = elementwiseOps.neg.kernel([spec], attrs, spec, kernelContext(device)) as KernelPlan;
const kernel = device.pipelines.get(plan.key, plan.wgsl);
const out = Tensor.empty([1024]);
const gpu = device.gpu;

const PARTS: Record<string, () => void> = {
  "neg(x) + dispose (the whole op)": () => neg(x).dispose(),
  "runOp(neg) + dispose": () => runOp(elementwiseOps.neg, [x], attrs).dispose(),
  "kernelContext + kernel plan": () => elementwiseOps.neg.kernel([spec], attrs, spec, kernelContext(device)),
  check: () => elementwiseOps.neg.check([spec], attrs),
  "Tensor.empty + dispose": () => Tensor.empty([1024]).dispose(),
  "pipelines.get (cache hit)": () => device.pipelines.get(plan.key, plan.wgsl),
  "queue.dispatch": () => device.queue.dispatch(kernel, plan.params, [{ buffer: x.buffer }, { buffer: out.buffer }], plan.workgroups),
  "createBindGroup alone (raw Dawn)": () =>
    gpu.createBindGroup({
      layout: kernel.layout,
      entries: [
        { binding: 0, resource: { buffer: x.buffer, offset: 0, size: 16 } },
        { binding: 1, resource: { buffer: x.buffer } },
        { binding: 2, resource: { buffer: out.buffer } },
      ],
    }),
};
// the uniform binding above borrows a storage buffer: make it a real uniform buffer
const uniform = gpu.createBuffer({ size: 256, usage: GPUBufferUsage.UNIFORM });
PARTS["createBindGroup alone (raw Dawn)"] = () =>
  gpu.createBindGroup({
    layout: kernel.layout,
    entries: [
      { binding: 0, resource: { buffer: uniform, offset: 0, size: 16 } },
      { binding: 1, resource: { buffer: x.buffer } },
      { binding: 2, resource: { buffer: out.buffer } },
    ],
  });

// the same with 64 distinct buffers in turn, as a chain of ops binds them
const rotating = Array.from({ length: 64 }, () => Tensor.empty([1024]));
let turn = 0;
PARTS["queue.dispatch, rotating buffers"] = () => {
  turn = (turn + 1) % 64;
  device.queue.dispatch(
    kernel,
    plan.params,
    [{ buffer: rotating[turn].buffer }, { buffer: rotating[(turn + 1) % 64].buffer }],
    plan.workgroups,
  );
};
PARTS["createBindGroup, rotating buffers"] = () => {
  turn = (turn + 1) % 64;
  gpu.createBindGroup({
    layout: kernel.layout,
    entries: [
      { binding: 0, resource: { buffer: uniform, offset: 0, size: 16 } },
      { binding: 1, resource: { buffer: rotating[turn].buffer } },
      { binding: 2, resource: { buffer: rotating[(turn + 1) % 64].buffer } },
    ],
  });
};

const best = new Map<string, number>();
for (let rep = 0; rep < reps; rep++) {
  for (const [name, part] of Object.entries(PARTS)) {
    const started = performance.now();
    for (let i = 0; i < ops; i++) part();
    const micros = ((performance.now() - started) * 1000) / ops;
    device.flush();
    await device.sync();
    if (rep > 0) best.set(name, Math.min(best.get(name) ?? Infinity, micros));
  }
}
for (const [name, micros] of best) console.log(`${name.padEnd(36)} ${micros.toFixed(2).padStart(7)} µs`);
out.dispose();
x.dispose();
rotating.forEach((t) => t.dispose());
device.destroy();
