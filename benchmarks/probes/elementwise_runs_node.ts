// How many elements each invocation of an elementwise kernel should handle on the CPU adapter, and
// in which order: a + b (flat) and x + temb[:, :, None, None] (one value per row of h·w) over
// 2×320×64×64 f32, straight through Dawn, sizes in a uniform as in the library's kernels. GPU
// timestamps, interleaved repetitions; the first run of each variant compiles and is dropped.
//
//   node --import tsx benchmarks/probes/elementwise_runs_node.ts [unsafe] [reps]
import { rawDawnDevice, timePasses } from "./_raw_dawn_node.ts";

const isUnsafe = process.argv[2] === "unsafe";
const reps = Number(process.argv[3] ?? 15);
const device = await rawDawnDevice({ unsafe: isUnsafe });
const ROWS = 2 * 320;
const ROW = 64 * 64;
const N = ROWS * ROW;
const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
const buffers = [0, 1, 2].map(() => device.createBuffer({ size: N * 4, usage }));
const values = new Float32Array(N).map((_, i) => i % 7);
buffers.forEach((b) => device.queue.writeBuffer(b, 0, values));
const params = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
device.queue.writeBuffer(params, 0, new Uint32Array([N, ROW, ROW / 4, 0]));

const bindings = (x: string, y: string, o: string) => `struct P { n: u32, row: u32, row4: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<${x}>;
@group(0) @binding(2) var<storage, read> y: array<${y}>;
@group(0) @binding(3) var<storage, read_write> o: array<${o}>;`;
const head = (
  size: number,
) => `@compute @workgroup_size(${size}) fn main(@builtin(workgroup_id) w: vec3u, @builtin(num_workgroups) n: vec3u, @builtin(local_invocation_index) l: u32) {
  let t = (w.y * n.x + w.x) * ${size}u + l;`;

interface Variant {
  name: string;
  code: string;
  perWorkgroup: number;
}
/** `perInvocation` vec4s per invocation, contiguous (t·k + j) or lane-strided (block + j·wg + lane). */
function flatVec4(workgroup: number, perInvocation: number, isLaneStrided: boolean): Variant {
  const body = Array.from({ length: perInvocation }, (_, j) => {
    const q = isLaneStrided ? `(t - l) * ${perInvocation}u + ${j * workgroup}u + l` : `t * ${perInvocation}u + ${j}u`;
    return `  { let q = ${q}; if (q < p.n / 4u) { o[q] = x[q] + y[q]; } }`;
  }).join("\n");
  return {
    name: `flat: ${perInvocation} vec4/inv ${isLaneStrided ? "lane-strided" : "contiguous"}, wg ${workgroup}`,
    perWorkgroup: workgroup * perInvocation * 4,
    code: `${bindings("vec4f", "vec4f", "vec4f")}\n${head(workgroup)}\n${body}\n}`,
  };
}
function flatScalars(workgroup: number, perInvocation: number): Variant {
  const body = Array.from({ length: perInvocation }, (_, j) => `  o[b + ${j}u] = x[b + ${j}u] + y[b + ${j}u];`).join("\n");
  return {
    name: `flat: ${perInvocation} scalars/inv unrolled, wg ${workgroup}`,
    perWorkgroup: workgroup * perInvocation,
    code: `${bindings("f32", "f32", "f32")}\n${head(workgroup)}\n  let b = t * ${perInvocation}u;\n  if (b + ${perInvocation}u > p.n) { return; }\n${body}\n}`,
  };
}
function rowVec4(workgroup: number, perInvocation: number): Variant {
  const body = Array.from(
    { length: perInvocation },
    (_, j) => `  { let q = t * ${perInvocation}u + ${j}u; if (q < p.n / 4u) { o[q] = x[q] + vec4f(y[q / p.row4]); } }`,
  ).join("\n");
  return {
    name: `row: ${perInvocation} vec4/inv, row operand per vec4, wg ${workgroup}`,
    perWorkgroup: workgroup * perInvocation * 4,
    code: `${bindings("vec4f", "f32", "vec4f")}\n${head(workgroup)}\n${body}\n}`,
  };
}
function rowVec4Once(workgroup: number, perInvocation: number): Variant {
  const body = Array.from({ length: perInvocation }, (_, j) => `  o[b + ${j}u] = x[b + ${j}u] + c;`).join("\n");
  return {
    name: `row: ${perInvocation} vec4/inv, row operand once per run, wg ${workgroup}`,
    perWorkgroup: workgroup * perInvocation * 4,
    code: `${bindings("vec4f", "f32", "vec4f")}\n${head(workgroup)}\n  let b = t * ${perInvocation}u;\n  if (b >= p.n / 4u) { return; }\n  let c = vec4f(y[b / p.row4]);\n${body}\n}`,
  };
}
function rowScalar(workgroup: number): Variant {
  return {
    name: `row: 1 scalar/inv (index math per element), wg ${workgroup}`,
    perWorkgroup: workgroup,
    code: `${bindings("f32", "f32", "f32")}\n${head(workgroup)}\n  if (t >= p.n) { return; }\n  o[t] = x[t] + y[t / p.row];\n}`,
  };
}

/** A run of `perInvocation` units (vec4 or scalar) per invocation in a loop with a dynamic trip count. */
function loopRun(kind: "flat" | "row", unit: "vec4f" | "f32", workgroup: number, perInvocation: number): Variant {
  const width = unit === "vec4f" ? 4 : 1;
  const count = width === 4 ? "p.n / 4u" : "p.n";
  const rowUnits = width === 4 ? "p.row4" : "p.row";
  const other = kind === "flat" ? "y[q]" : "c";
  const setup = kind === "row" ? `  let c = ${unit}(y[b / ${rowUnits}]);\n` : "";
  return {
    name: `${kind}: loop of ${perInvocation} ${unit}/inv, wg ${workgroup}`,
    perWorkgroup: workgroup * perInvocation * width,
    code: `${bindings(unit, kind === "row" ? "f32" : unit, unit)}\n${head(workgroup)}
  let b = t * ${perInvocation}u;
  if (b >= ${count}) { return; }
${setup}  let m = min(${perInvocation}u, ${count} - b);
  for (var k = 0u; k < m; k++) { let q = b + k; o[q] = x[q] + ${other}; }
}`,
  };
}

/** One invocation per workgroup: every address depends on the workgroup id only (dynamically uniform). */
function uniformRun(unit: "vec4f" | "f32", perWorkgroup: number): Variant {
  const width = unit === "vec4f" ? 4 : 1;
  const count = width === 4 ? "p.n / 4u" : "p.n";
  return {
    name: `flat: 1 inv/workgroup, loop of ${perWorkgroup} ${unit} (uniform)`,
    perWorkgroup: perWorkgroup * width,
    code: `${bindings(unit, unit, unit)}\n${head(1)}
  let b = t * ${perWorkgroup}u;
  let m = min(${perWorkgroup}u, ${count} - b);
  for (var k = 0u; k < m; k++) { let q = b + k; o[q] = x[q] + y[q]; }
}`,
  };
}

/** One invocation per workgroup, straight-line code (no control flow at all), full runs only. */
function uniformStraight(unit: "vec4f" | "f32", perWorkgroup: number): Variant {
  const width = unit === "vec4f" ? 4 : 1;
  const body = Array.from({ length: perWorkgroup }, (_, k) => `  o[b + ${k}u] = x[b + ${k}u] + y[b + ${k}u];`).join("\n");
  return {
    name: `flat: 1 inv/workgroup, ${perWorkgroup} ${unit} straight-line (uniform)`,
    perWorkgroup: perWorkgroup * width,
    code: `${bindings(unit, unit, unit)}\n${head(1)}
  let b = t * ${perWorkgroup}u + p.pad;
${body}
}`,
  };
}

/** Runs of `perInvocation` vec4s, the grid covering the data exactly: no bounds check, no mask. */
function exactRun(workgroup: number, perInvocation: number, isLoop: boolean): Variant {
  const body = isLoop
    ? `  for (var k = 0u; k < ${perInvocation}u; k++) { let q = b + k; o[q] = x[q] + y[q]; }`
    : Array.from({ length: perInvocation }, (_, k) => `  o[b + ${k}u] = x[b + ${k}u] + y[b + ${k}u];`).join("\n");
  return {
    name: `flat: ${perInvocation} vec4/inv, exact grid, ${isLoop ? "loop" : "unrolled"}, wg ${workgroup}`,
    perWorkgroup: workgroup * perInvocation * 4,
    code: `${bindings("vec4f", "vec4f", "vec4f")}\n${head(workgroup)}
  let b = t * ${perInvocation}u + p.pad;
${body}
}`,
  };
}

// 2026-11-25, load ~4: tfjs-style 14.7 ms, our loop of 4 vec4 12.0 ms, unrolled forms 11.7 ms (all
// medians of 60); scalar runs, 8 vec4 per invocation, one invocation per workgroup (uniform
// addresses) and subgroup-uniform loads (every lane loads 8 vec4s, keeps its own with selects,
// stores through subgroupBroadcast: 10–25× slower) were all slower
const VARIANTS: Variant[] = [
  flatScalars(256, 1),
  flatVec4(128, 1, false),
  loopRun("flat", "vec4f", 64, 4),
  flatVec4(64, 4, false),
  exactRun(64, 4, false),
  loopRun("flat", "f32", 64, 16),
  uniformRun("vec4f", 256),
  uniformStraight("vec4f", 64),
  rowScalar(256),
  rowVec4(64, 1),
  rowVec4Once(64, 4),
  loopRun("row", "vec4f", 64, 4),
];

const runs = VARIANTS.map(({ name, code, perWorkgroup }) => {
  const pipeline = device.createComputePipeline({
    layout: "auto",
    compute: { module: device.createShaderModule({ code }), entryPoint: "main" },
  });
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [{ binding: 0, resource: { buffer: params } }, ...buffers.map((buffer, i) => ({ binding: i + 1, resource: { buffer } }))],
  });
  const groups = Math.ceil(N / perWorkgroup);
  const grid: [number, number] = groups > 65535 ? [65535, Math.ceil(groups / 65535)] : [groups, 1];
  return { name, pipeline, bindGroup, grid, times: [] as number[] };
});
const timings = await timePasses(device, runs, reps);
runs.forEach((run, i) => run.times.push(...timings[i]!));
for (const { name, times } of runs) {
  const median = times[Math.floor(times.length / 2)];
  console.log(
    `${isUnsafe ? "no robustness" : "robust"}, ${name.padEnd(56)} median ${median.toFixed(1).padStart(5)} ms, min ${times[0].toFixed(1).padStart(5)} ms`,
  );
}
device.destroy();
