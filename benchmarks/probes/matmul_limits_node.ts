// What limits matmul on lavapipe (issue 5's 25 GFLOP/s target): our kernel's layout — 8 lanes per
// workgroup, each lane a 16-row × 4-column register block, a's values shared by subgroupShuffle —
// over m=4096, n=320, k=320, with its memory traffic removed step by step, other ways of reading a
// and b, and smaller blocks. "no loads at all" is the ceiling of the block's arithmetic as lavapipe
// compiles it (a lane is one AVX2 slot; 64 accumulators do not fit the 16 ymm registers).
// GPU timestamps, repetitions interleaved; the best of 5 runs is the number to compare.
//
//   node --import tsx benchmarks/probes/matmul_limits_node.ts [blocks | name filter]
import { rawDawnDevice, timePasses } from "./_raw_dawn_node.ts";

const device = await rawDawnDevice({ features: ["subgroups" as GPUFeatureName] });
const [M, N, K] = [4096, 320, 320];
const LANES = 8;
const mk = (n: number, usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST) => device.createBuffer({ size: n * 4, usage });
const a = mk(M * K),
  b = mk(K * N),
  y = mk(M * N);
device.queue.writeBuffer(
  a,
  0,
  new Float32Array(M * K).map((_, i) => (i % 13) * 0.01),
);
device.queue.writeBuffer(
  b,
  0,
  new Float32Array(K * N).map((_, i) => (i % 7) * 0.01),
);

type Mode = {
  name: string;
  aLoad: "shuffle" | "broadcast8" | "direct" | "none";
  bLoad: "gather" | "vec4" | "none";
  rows?: number;
  cols?: number;
};
function source(mode: Mode): string {
  const ROWS = mode.rows ?? 16,
    COLS = mode.cols ?? 4;
  const L: string[] = [
    "enable subgroups;",
    "@group(0) @binding(0) var<storage, read> a: array<f32>;",
    mode.bLoad === "vec4"
      ? "@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;"
      : "@group(0) @binding(1) var<storage, read> b: array<f32>;",
    "@group(0) @binding(2) var<storage, read_write> y: array<vec4<f32>>;",
    `@compute @workgroup_size(${LANES}) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(subgroup_invocation_id) sid: u32, @builtin(subgroup_size) sgSize: u32) {`,
    `  let group = min(sgSize, ${LANES}u); let member = sid % group; let first = sid - member;`,
    `  let row0 = wid.y * ${ROWS}u; let n0 = wid.x * ${LANES * COLS}u + lid * ${COLS}u;`,
  ];
  for (let r = 0; r < ROWS; r++) L.push(`  let aRow${r} = (row0 + ${r}u) * ${K}u;`);
  for (let r = 0; r < ROWS; r++) for (let c = 0; c < COLS; c++) L.push(`  var acc${r}_${c} = 0.0;`);
  const fmas = () => {
    const out: string[] = [];
    for (let r = 0; r < ROWS; r++) for (let c = 0; c < COLS; c++) out.push(`acc${r}_${c} = fma(a${r}, b${c}, acc${r}_${c});`);
    return out;
  };
  const bLines = (kj: string) => {
    if (mode.bLoad === "none") return Array.from({ length: COLS }, (_, c) => `let b${c} = f32(${kj} + ${c}u) * 0.001;`);
    if (mode.bLoad === "vec4")
      return [`let bv = b[(${kj} * ${N}u + n0) / 4u];`, ...Array.from({ length: COLS }, (_, c) => `let b${c} = bv[${c}];`)];
    return Array.from({ length: COLS }, (_, c) => `let b${c} = b[${kj} * ${N}u + n0 + ${c}u];`);
  };
  if (mode.aLoad === "shuffle" || mode.aLoad === "broadcast8") {
    const g = mode.aLoad === "broadcast8" ? "8u" : "group";
    L.push(`  for (var k0 = 0u; k0 < ${K}u; k0 += ${g}) {`);
    for (let r = 0; r < ROWS; r++) L.push(`    let al${r} = a[aRow${r} + k0 + ${mode.aLoad === "broadcast8" ? "sid % 8u" : "member"}];`);
    if (mode.aLoad === "shuffle") {
      L.push("    for (var j = 0u; j < group; j++) {");
      for (let r = 0; r < ROWS; r++) L.push(`      let a${r} = subgroupShuffle(al${r}, first + j);`);
      L.push(...bLines("(k0 + j)").map((l) => `      ${l}`), ...fmas().map((l) => `      ${l}`), "    }");
    } else {
      for (let j = 0; j < 8; j++) {
        L.push("    {");
        for (let r = 0; r < ROWS; r++) L.push(`      let a${r} = subgroupBroadcast(al${r}, ${j}u);`);
        L.push(...bLines(`(k0 + ${j}u)`).map((l) => `      ${l}`), ...fmas().map((l) => `      ${l}`), "    }");
      }
    }
    L.push("  }");
  } else {
    L.push(`  for (var kj = 0u; kj < ${K}u; kj++) {`);
    for (let r = 0; r < ROWS; r++)
      L.push(mode.aLoad === "direct" ? `    let a${r} = a[aRow${r} + kj];` : `    let a${r} = f32(kj + ${r}u) * 0.002;`);
    L.push(...bLines("kj").map((l) => `    ${l}`), ...fmas().map((l) => `    ${l}`), "  }");
  }
  for (let r = 0; r < ROWS; r++)
    L.push(`  y[((row0 + ${r}u) * ${N}u + n0) / 4u] = vec4<f32>(${Array.from({ length: COLS }, (_, c) => `acc${r}_${c}`).join(", ")});`);
  L.push("}");
  return L.join("\n");
}

const MODES: Mode[] = [
  { name: "ours: a by shuffle (dynamic group), b gathered", aLoad: "shuffle", bLoad: "gather" },
  { name: "a by shuffle, b as vec4", aLoad: "shuffle", bLoad: "vec4" },
  { name: "a by constant broadcast (8, unrolled), b gathered", aLoad: "broadcast8", bLoad: "gather" },
  { name: "a by constant broadcast, b as vec4", aLoad: "broadcast8", bLoad: "vec4" },
  { name: "a loaded by every lane, b gathered", aLoad: "direct", bLoad: "gather" },
  { name: "a by shuffle, no b loads", aLoad: "shuffle", bLoad: "none" },
  { name: "a by constant broadcast, no b loads", aLoad: "broadcast8", bLoad: "none" },
  { name: "no loads at all (FMA ceiling of this block)", aLoad: "none", bLoad: "none" },
  { name: "no loads, 8×4 block", aLoad: "none", bLoad: "none", rows: 8 },
  { name: "no loads, 4×4 block", aLoad: "none", bLoad: "none", rows: 4 },
  { name: "no loads, 2×4 block", aLoad: "none", bLoad: "none", rows: 2 },
  { name: "shuffle a, gather b, 8×4 block", aLoad: "shuffle", bLoad: "gather", rows: 8 },
  { name: "shuffle a, vec4 b, 8×4 block", aLoad: "shuffle", bLoad: "vec4", rows: 8 },
  { name: "shuffle a, vec4 b, 4×4 block", aLoad: "shuffle", bLoad: "vec4", rows: 4 },
];
const layout = device.createBindGroupLayout({
  entries: [0, 1, 2].map((binding) => ({
    binding,
    visibility: GPUShaderStage.COMPUTE,
    buffer: { type: binding === 2 ? "storage" : "read-only-storage" } as GPUBufferBindingLayout,
  })),
});
const pipelineLayout = device.createPipelineLayout({ bindGroupLayouts: [layout] });
const only = process.argv[2];
const runs = MODES.filter(
  (m) =>
    !only ||
    m.name.includes(only) ||
    (only === "blocks" && (m.rows !== undefined || m.name.startsWith("ours") || m.name.startsWith("no loads at"))),
).map((mode) => {
  const pipeline = device.createComputePipeline({
    layout: pipelineLayout,
    compute: { module: device.createShaderModule({ code: source(mode) }), entryPoint: "main" },
  });
  const bindGroup = device.createBindGroup({ layout, entries: [a, b, y].map((buffer, binding) => ({ binding, resource: { buffer } })) });
  return { mode, pipeline, bindGroup, grid: [N / (LANES * (mode.cols ?? 4)), M / (mode.rows ?? 16)] as const };
});
const times = await timePasses(device, runs, 6);
for (const [i, { mode }] of runs.entries()) {
  const sorted = times[i]!;
  const median = sorted[Math.floor(sorted.length / 2)]!;
  console.log(
    `${mode.name.padEnd(50)} median ${median.toFixed(1).padStart(7)} ms  min ${sorted[0]!.toFixed(1).padStart(7)} ms  ${((2 * M * N * K) / sorted[0]! / 1e6).toFixed(1).padStart(5)} GFLOP/s (best)`,
  );
}
device.destroy();
