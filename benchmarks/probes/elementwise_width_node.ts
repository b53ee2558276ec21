// Why our elementwise kernels trail tfjs on the CPU adapter: the same a + b over 2×320×64×64 f32,
// straight through Dawn, with one scalar per invocation (our elementwise kernel's layout), one vec4
// per invocation (tfjs's), or 8 scalars per invocation. GPU timestamps, interleaved repetitions.
//
//   node --import tsx benchmarks/probes/elementwise_width_node.ts [unsafe]
import { rawDawnDevice, timePasses } from "./_raw_dawn_node.ts";

const isUnsafe = process.argv[2] === "unsafe";
const device = await rawDawnDevice({ unsafe: isUnsafe });
const N = 2 * 320 * 64 * 64;
const buffers = [0, 1, 2].map(() => device.createBuffer({ size: N * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST }));
const values = new Float32Array(N).map((_, i) => i % 7);
buffers.forEach((b) => device.queue.writeBuffer(b, 0, values));

const BINDINGS = (type: string) =>
  `@group(0) @binding(0) var<storage, read> x: array<${type}>; @group(0) @binding(1) var<storage, read> y: array<${type}>; @group(0) @binding(2) var<storage, read_write> o: array<${type}>;`;
const INDEX = (size: number) => `let i = (w.y * n.x + w.x) * ${size}u + l;`;
const HEAD = (size: number) =>
  `@compute @workgroup_size(${size}) fn main(@builtin(workgroup_id) w: vec3u, @builtin(num_workgroups) n: vec3u, @builtin(local_invocation_index) l: u32)`;
const VARIANTS: { name: string; code: string; perWorkgroup: number }[] = [
  {
    name: "1 scalar per invocation, workgroup 256",
    perWorkgroup: 256,
    code: `${BINDINGS("f32")} ${HEAD(256)} { ${INDEX(256)} if (i >= ${N}u) { return; } o[i] = x[i] + y[i]; }`,
  },
  {
    name: "1 vec4 per invocation, workgroup 64",
    perWorkgroup: 256,
    code: `${BINDINGS("vec4f")} ${HEAD(64)} { ${INDEX(64)} if (i >= ${N / 4}u) { return; } o[i] = x[i] + y[i]; }`,
  },
  {
    name: "8 scalars per invocation, workgroup 256",
    perWorkgroup: 2048,
    code: `${BINDINGS("f32")} ${HEAD(256)} { ${INDEX(256)} for (var k = 0u; k < 8u; k++) { let j = i * 8u + k; if (j >= ${N}u) { return; } o[j] = x[j] + y[j]; } }`,
  },
];

const runs = VARIANTS.map(({ name, code, perWorkgroup }) => {
  const pipeline = device.createComputePipeline({
    layout: "auto",
    compute: { module: device.createShaderModule({ code }), entryPoint: "main" },
  });
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const groups = Math.ceil(N / perWorkgroup);
  const grid: [number, number] = groups > 65535 ? [65535, Math.ceil(groups / 65535)] : [groups, 1];
  return { name, pipeline, bindGroup, grid, times: [] as number[] };
});
const timings = await timePasses(device, runs, 12);
runs.forEach((run, i) => run.times.push(...timings[i]!));
for (const { name, times } of runs) {
  const median = times[Math.floor(times.length / 2)];
  console.log(
    `${isUnsafe ? "no robustness" : "robust"}, ${name}: median ${median.toFixed(1)} ms, min ${times[0].toFixed(1)} ms (${((3 * N * 4) / median / 1e6).toFixed(2)} GB/s at the median)`,
  );
}
device.destroy();
