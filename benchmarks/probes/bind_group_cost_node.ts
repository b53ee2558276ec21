// Host cost per dispatch in Dawn, by part: createBindGroup, getBindGroupLayout, and encoding a
// dispatch with a cached bind group. The floor under every library's per-op overhead.
//
//   node --import tsx benchmarks/probes/bind_group_cost_node.ts [dispatches, default 5000]
import { create, globals } from "webgpu";

Object.assign(globalThis, globals);
const gpu = create([]);
const device = await (await gpu.requestAdapter())!.requestDevice();
const code = `@group(0) @binding(0) var<uniform> p: vec4u; @group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(256) fn main(@builtin(global_invocation_id) g: vec3u) { if (g.x < p.x) { y[g.x] = -x[g.x]; } }`;
const pipeline = device.createComputePipeline({
  layout: "auto",
  compute: { module: device.createShaderModule({ code }), entryPoint: "main" },
});
const ring = device.createBuffer({ size: 256 * 256, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
const [a, b] = [0, 1].map(() => device.createBuffer({ size: 4096, usage: GPUBufferUsage.STORAGE }));
const layout = pipeline.getBindGroupLayout(0);
const count = Number(process.argv[2] ?? 5000);
const makeBindGroup = (i: number, groupLayout: GPUBindGroupLayout) =>
  device.createBindGroup({
    layout: groupLayout,
    entries: [
      { binding: 0, resource: { buffer: ring, offset: (i % 256) * 256, size: 16 } },
      { binding: 1, resource: { buffer: i % 2 ? a : b } },
      { binding: 2, resource: { buffer: i % 2 ? b : a } },
    ],
  });
const cached = makeBindGroup(0, layout);
const MODES = [
  "createBindGroup + getBindGroupLayout + encode",
  "createBindGroup + encode",
  "createBindGroup only",
  "getBindGroupLayout only",
  "encode only (cached bind group)",
] as const;
for (const mode of MODES) {
  let micros = 0;
  for (let rep = 0; rep < 2; rep++) {
    let encoder = device.createCommandEncoder();
    let pass = encoder.beginComputePass();
    const start = performance.now();
    for (let i = 0; i < count; i++) {
      if (mode === "getBindGroupLayout only") {
        pipeline.getBindGroupLayout(0);
        continue;
      }
      const bindGroup = mode.startsWith("encode only")
        ? cached
        : makeBindGroup(i, mode.includes("getBindGroupLayout") ? pipeline.getBindGroupLayout(0) : layout);
      if (mode === "createBindGroup only") continue;
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(4);
      if (i % 64 === 63) {
        pass.end();
        device.queue.submit([encoder.finish()]);
        encoder = device.createCommandEncoder();
        pass = encoder.beginComputePass();
      }
    }
    micros = ((performance.now() - start) * 1000) / count; // the second repetition counts
    pass.end();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
  }
  console.log(`${mode}: ${micros.toFixed(1)} µs per dispatch (host)`);
}
device.destroy();
