import type { DType } from "../../tensor/dtype.ts";
import { Params } from "../../wgsl/params.ts";
import type { KernelPlan, KernelProgram } from "../op_def.ts";
import { activationHelpers, type Epilogue, epilogueKey, epilogueWgsl } from "./matmul_epilogue.ts";
import type { MatmulGeometry } from "./matmul_shape.ts";
import { addBatchParams, batchOffsetLines, MAX_GROUPS, splitBatch, storageDecl } from "./matmul_wgsl.ts";

/** What a matmul kernel builder gets: the geometry, the layouts, the dtype and the epilogue. */
export interface MatmulKernelSpec {
  geometry: MatmulGeometry;
  transposeA: boolean;
  transposeB: boolean;
  dtype: DType;
  epilogue: Epilogue;
}

/** Most rows one quad owns; fewer when m is small (see `cpuRows`). */
export const CPU_MAX_ROWS = 16;
/** Columns each lane owns by default (vec4s of adjacent columns, or columns strided by 4). */
export const CPU_COLS = 4;
const COMPONENTS = ["x", "y", "z", "w"];

/** How the operands are read: vec4 loads along a contiguous dimension wherever sizes allow. */
interface Layout {
  spec: MatmulKernelSpec;
  rows: number;
  /** Columns per lane, a multiple of 4. */
  cols: number;
  /** a is [m, k] with k % 4 = 0: each lane loads 4 consecutive k of a row. */
  vecA: boolean;
  /** b is [k, n] with n % 4 = 0: each lane loads (and the output stores) 4 adjacent columns. */
  vecBn: boolean;
  /** b is [n, k] with k % 4 = 0: each lane loads 4 consecutive k of a column. */
  vecBk: boolean;
}

/** Rows per quad: the smallest power of two covering m over the two quads, at most CPU_MAX_ROWS. */
export function cpuRows(m: number): number {
  let rows = 1;
  while (rows < CPU_MAX_ROWS && rows * 2 < m) rows *= 2;
  return rows;
}

/**
 * The matmul kernel for CPU adapters (lavapipe, SwiftShader), where every per-invocation memory
 * read is a scalar loop over SIMD lanes and workgroup memory buys nothing. A workgroup of 8 is two
 * quads; a quad owns `rows` output rows and 16 columns, each lane 4 of the columns. Per step of
 * k the quad's lanes load 4 different pieces of a's rows once and share them with
 * `quadBroadcast` (so a costs a quarter of the loads), while each lane loads only its own columns
 * of b; every loaded value then feeds `rows` or 4 fused multiply-adds from registers. Quads
 * exist for every subgroup size WebGPU allows (≥ 4), so the kernel needs `subgroups` but no
 * particular size.
 */
export function matmulCpuKernel(spec: MatmulKernelSpec, rows = cpuRows(spec.geometry.m), cols = CPU_COLS): KernelPlan | KernelProgram {
  const { geometry: g, transposeA, transposeB, dtype, epilogue } = spec;
  const layout: Layout = {
    spec,
    rows,
    cols,
    vecA: !transposeA && g.k % 4 === 0,
    vecBn: !transposeB && g.n % 4 === 0,
    vecBk: transposeB && g.k % 4 === 0,
  };
  const chunk = layout.vecA ? 16 : 4;
  const modes = `${transposeA ? "t" : "n"}${transposeB ? "t" : "n"}${layout.vecA ? "_va" : ""}${layout.vecBn ? "_vn" : ""}${layout.vecBk ? "_vk" : ""}`;
  const key = `matmul_cpu_r${rows}c${cols}_${dtype}_${modes}_b${g.batchDims.length}${epilogueKey(epilogue)}`;
  const groupsX = Math.ceil(g.m / (2 * rows));
  const groupsY = Math.ceil(g.n / (4 * cols));
  if (groupsX > MAX_GROUPS || groupsY > MAX_GROUPS) {
    throw new RangeError(`Cannot run matmul of ${g.m}×${g.k} by ${g.k}×${g.n}: the grid needs ${groupsX}×${groupsY} workgroups, at most ${MAX_GROUPS} per dimension`);
  }
  const makeParams = (batch0: number) =>
    addBatchParams(new Params().u32("m", g.m).u32("n", g.n).u32("k", g.k).u32("kMain", g.k - (g.k % chunk)).f32("alpha", epilogue.alpha), g, batch0);
  return splitBatch(g.batch, (batch0, count) => ({
    key,
    wgsl: () => cpuSource(layout, makeParams(0)),
    params: makeParams(batch0).pack(),
    workgroups: [groupsX, groupsY, count],
  }));
}

function cpuSource(layout: Layout, params: Params): string {
  const { spec, rows, vecA, vecBn, vecBk } = layout;
  const { dtype, epilogue } = spec;
  const lines: string[] = ["enable subgroups;"];
  if (dtype === "f16") lines.push("enable f16;");
  lines.push(params.struct());
  let binding = 1;
  lines.push(storageDecl(binding++, "a", dtype, vecA));
  lines.push(storageDecl(binding++, "b", dtype, vecBn || vecBk));
  if (epilogue.hasBias) lines.push(storageDecl(binding++, "bias", dtype, vecBn));
  if (epilogue.hasResidual) lines.push(storageDecl(binding++, "res", dtype, vecBn));
  lines.push(storageDecl(binding, "y", dtype, vecBn, true));
  lines.push(activationHelpers(epilogue.activation));
  lines.push("@compute @workgroup_size(8)");
  lines.push("fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {");
  lines.push("  let lane = lid & 3u;", "  let quad = lid >> 2u;");
  lines.push(...batchOffsetLines(spec.geometry.batchDims.length));
  // 1. the quad's rows (clamped for loads) and the lane's columns
  lines.push(`  let row0 = (wid.x * 2u + quad) * ${rows}u;`);
  for (let r = 0; r < rows; r++) {
    lines.push(`  let ra${r} = min(row0 + ${r}u, p.m - 1u);`);
    if (!spec.transposeA) lines.push(`  let aRow${r} = ${vecA ? `(offA + ra${r} * p.k) / 4u` : `offA + ra${r} * p.k`};`);
  }
  lines.push(...columnLines(layout));
  for (let r = 0; r < rows; r++) {
    if (vecBn) for (let v = 0; v < layout.cols / 4; v++) lines.push(`  var acc${r}_${v} = vec4<f32>(0.0);`);
    else for (let c = 0; c < layout.cols; c++) lines.push(`  var acc${r}_${c} = 0.0;`);
  }
  // 2. main loop: the quad shares a's values, each lane reads its own columns of b
  lines.push(`  for (var k0 = 0u; k0 < p.kMain; k0 += ${vecA ? 16 : 4}u) {`);
  lines.push(...sharedALoads(layout).map((line) => `    ${line}`));
  lines.push(...mainConsume(layout).map((line) => `    ${line}`));
  lines.push("  }");
  // 3. the k that do not fill a chunk: every lane reads a itself
  lines.push(...tailLoop(layout));
  // 4. epilogue and store
  lines.push(...storeLines(layout));
  lines.push("}");
  return lines.join("\n");
}

/** Column indices (clamped for loads) and b's per-column base offsets. */
function columnLines(layout: Layout): string[] {
  const { spec, vecBn, vecBk, cols } = layout;
  if (vecBn) {
    const lines = ["  let nv = p.n / 4u;"];
    for (let v = 0; v < cols / 4; v++) {
      lines.push(`  let colv${v} = wid.y * ${cols}u + lane + ${4 * v}u;`);
      lines.push(`  let bBase${v} = offB / 4u + min(colv${v}, nv - 1u);`);
      if (spec.epilogue.hasBias) lines.push(`  let biasV${v} = vec4<f32>(bias[min(colv${v}, nv - 1u)]);`);
    }
    return lines;
  }
  const lines: string[] = [];
  for (let c = 0; c < cols; c++) {
    lines.push(`  let n${c} = wid.y * ${4 * cols}u + lane + ${4 * c}u;`);
    lines.push(`  let nc${c} = min(n${c}, p.n - 1u);`);
    if (!spec.transposeB) lines.push(`  let bCol${c} = offB + nc${c};`);
    else lines.push(`  let bCol${c} = ${vecBk ? `(offB + nc${c} * p.k) / 4u` : `offB + nc${c} * p.k`};`);
    if (spec.epilogue.hasBias) lines.push(`  let bias${c} = f32(bias[nc${c}]);`);
  }
  return lines;
}

/** Lane l loads a's piece number l of the chunk, for every row of the quad. */
function sharedALoads(layout: Layout): string[] {
  const lines: string[] = [];
  for (let r = 0; r < layout.rows; r++) {
    if (layout.vecA) lines.push(`let al${r} = vec4<f32>(a[aRow${r} + k0 / 4u + lane]);`);
    else if (layout.spec.transposeA) lines.push(`let al${r} = f32(a[offA + (k0 + lane) * p.m + ra${r}]);`);
    else lines.push(`let al${r} = f32(a[aRow${r} + k0 + lane]);`);
  }
  return lines;
}

/** The chunk's multiply-adds, with a's values broadcast from the lane that loaded them. */
function mainConsume(layout: Layout): string[] {
  const { rows, vecA, vecBk } = layout;
  const broadcast = (j: number) => Array.from({ length: rows }, (_, r) => `let ab${r}_${j} = quadBroadcast(al${r}, ${j}u);`);
  const lines: string[] = [];
  if (vecBk && !vecA) {
    // four single k from four lanes make one vec4 of b along k
    for (let j = 0; j < 4; j++) lines.push(...broadcast(j));
    lines.push(...consumeGroup(layout, "k0 / 4u", (r, t) => `ab${r}_${t}`));
    return lines;
  }
  for (let j = 0; j < 4; j++) {
    lines.push(...broadcast(j));
    if (!vecA) {
      lines.push(...consumeSingle(layout, `k0 + ${j}u`, (r) => `ab${r}_${j}`));
    } else if (vecBk) {
      lines.push(...consumeGroup(layout, `k0 / 4u + ${j}u`, (r, t) => `ab${r}_${j}.${COMPONENTS[t]}`));
    } else {
      for (let t = 0; t < 4; t++) lines.push(...consumeSingle(layout, `k0 + ${4 * j + t}u`, (r) => `ab${r}_${j}.${COMPONENTS[t]}`));
    }
  }
  return lines;
}

/** Multiply-adds for one k: `aValue(r)` is row r's value of a at that k. */
function consumeSingle(layout: Layout, k: string, aValue: (r: number) => string): string[] {
  const { rows, vecBn, spec, cols } = layout;
  const lines = ["{"];
  if (vecBn) {
    for (let v = 0; v < cols / 4; v++) lines.push(`  let bv${v} = vec4<f32>(b[bBase${v} + (${k}) * nv]);`);
    for (let r = 0; r < rows; r++) {
      lines.push(`  let as${r} = vec4<f32>(${aValue(r)});`);
      for (let v = 0; v < cols / 4; v++) lines.push(`  acc${r}_${v} = fma(as${r}, bv${v}, acc${r}_${v});`);
    }
  } else {
    for (let c = 0; c < cols; c++) {
      const index = spec.transposeB ? `bCol${c} + ${k}` : `bCol${c} + (${k}) * p.n`;
      lines.push(`  let b${c} = f32(b[${index}]);`);
    }
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) lines.push(`  acc${r}_${c} = fma(${aValue(r)}, b${c}, acc${r}_${c});`);
    }
  }
  lines.push("}");
  return lines;
}

/** Multiply-adds for four consecutive k when b is read as vec4s along k (`k4` = k / 4). */
function consumeGroup(layout: Layout, k4: string, aValue: (r: number, t: number) => string): string[] {
  const lines = ["{"];
  for (let c = 0; c < layout.cols; c++) lines.push(`  let b${c} = vec4<f32>(b[bCol${c} + ${k4}]);`);
  for (let r = 0; r < layout.rows; r++) {
    for (let c = 0; c < layout.cols; c++) {
      let sum = `acc${r}_${c}`;
      for (let t = 0; t < 4; t++) sum = `fma(${aValue(r, t)}, b${c}.${COMPONENTS[t]}, ${sum})`;
      lines.push(`  acc${r}_${c} = ${sum};`);
    }
  }
  lines.push("}");
  return lines;
}

/** The last k % chunk values of k, without sharing (a few steps at most). */
function tailLoop(layout: Layout): string[] {
  const { rows, vecA, vecBk, spec } = layout;
  if (vecBk && !vecA) return []; // k % 4 = 0 here, so the chunks of 4 cover every k
  const step = vecA ? 4 : 1;
  const lines = [`  for (var kt = p.kMain; kt < p.k; kt += ${step}u) {`];
  for (let r = 0; r < rows; r++) {
    if (vecA) lines.push(`    let at${r} = vec4<f32>(a[aRow${r} + kt / 4u]);`);
    else if (spec.transposeA) lines.push(`    let at${r} = f32(a[offA + kt * p.m + ra${r}]);`);
    else lines.push(`    let at${r} = f32(a[aRow${r} + kt]);`);
  }
  let body: string[];
  if (vecA && vecBk) body = consumeGroup(layout, "kt / 4u", (r, t) => `at${r}.${COMPONENTS[t]}`);
  else if (vecA) body = [0, 1, 2, 3].flatMap((t) => consumeSingle(layout, `kt + ${t}u`, (r) => `at${r}.${COMPONENTS[t]}`));
  else body = consumeSingle(layout, "kt", (r) => `at${r}`);
  lines.push(...body.map((line) => `    ${line}`));
  lines.push("  }");
  return lines;
}

/** Applies the epilogue to every owned element inside the output and stores it. */
function storeLines(layout: Layout): string[] {
  const { rows, vecBn, spec, cols } = layout;
  const epilogue = spec.epilogue;
  const dtype = spec.dtype;
  const lines: string[] = [];
  for (let r = 0; r < rows; r++) {
    lines.push(`  let orow${r} = row0 + ${r}u;`);
    if (vecBn) {
      for (let v = 0; v < cols / 4; v++) {
        lines.push(`  if (orow${r} < p.m && colv${v} < nv) {`);
        lines.push(`    let at = (offY + orow${r} * p.n) / 4u + colv${v};`);
        if (epilogue.hasResidual) lines.push("    let rv = vec4<f32>(res[at]);");
        for (const comp of COMPONENTS) {
          lines.push(...epilogueWgsl(epilogue, `o${comp}`, `acc${r}_${v}.${comp}`, `biasV${v}.${comp}`, `rv.${comp}`).map((line) => `    ${line}`));
        }
        lines.push(`    y[at] = vec4<${dtype}>(${COMPONENTS.map((comp) => `o${comp}`).join(", ")});`);
        lines.push("  }");
      }
      continue;
    }
    for (let c = 0; c < cols; c++) {
      lines.push(`  if (orow${r} < p.m && n${c} < p.n) {`);
      lines.push(`    let at = offY + orow${r} * p.n + n${c};`);
      lines.push(...epilogueWgsl(epilogue, "o", `acc${r}_${c}`, `bias${c}`, "f32(res[at])").map((line) => `    ${line}`));
      lines.push(`    y[at] = ${dtype}(o);`);
      lines.push("  }");
    }
  }
  return lines;
}
