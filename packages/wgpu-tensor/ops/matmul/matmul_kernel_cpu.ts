import type { DType } from "../../tensor/dtype.ts";
import { Params } from "../../wgsl/params.ts";
import type { KernelPlan, KernelProgram } from "../op_def.ts";
import { activationHelpers, activationVec4Helper, type Epilogue, epilogueKey, epilogueWgsl, epilogueWgslVec4 } from "./matmul_epilogue.ts";
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

/** Invocations per workgroup: one subgroup on lavapipe (AVX2), two on SwiftShader. */
const LANES = 8;
/**
 * Rows a workgroup owns, whatever m: 8-row blocks measured 2–3× slower per flop than 16 (32 no
 * faster), and every other size would be one more kernel for lavapipe to compile for seconds.
 */
export const CPU_ROWS = 16;
/** Bytes of b below which it stays in a core's L2 (512 KiB on the project's machines) between workgroups. */
const L2_BUDGET_BYTES = 384 * 1024;
/** Columns each lane owns, strided by LANES so that a workgroup owns LANES·CPU_COLS adjacent ones. */
export const CPU_COLS = 4;

/**
 * Element strides of op(a) along (m, k) and op(b) along (k, n): one kernel source serves every
 * combination of transposes.
 */
export function operandStrides(spec: MatmulKernelSpec): { sAm: number; sAk: number; sBk: number; sBn: number } {
  const { m, n, k } = spec.geometry;
  return {
    sAm: spec.transposeA ? 1 : k,
    sAk: spec.transposeA ? m : 1,
    sBk: spec.transposeB ? 1 : n,
    sBn: spec.transposeB ? k : 1,
  };
}

/**
 * The matmul kernel for CPU adapters (lavapipe, SwiftShader). There every per-invocation memory
 * read is a scalar loop over the SIMD lanes with a bounds check, workgroup memory is ordinary
 * memory and barriers turn shaders into coroutines; what pays is reading each value once and
 * using it many times from registers. A workgroup of 8 invocations owns `rows` rows and 32
 * columns, each invocation 4 of the columns (adjacent and stored as one vec4 when n % 4 = 0,
 * else strided by 8) and all the rows: a 16×4 register block. Per step of k the group's
 * G = min(subgroup size, 8) lanes each read a different k of a's rows and pass them around with
 * `subgroupShuffle` (one AVX2 permute on lavapipe), so a costs 1/G of its loads, while each lane
 * reads only its own 4 values of b; every value read then feeds 16 or 4 multiply-adds.
 *
 * lavapipe's compile time grows with every memory access in the source (each becomes a branchy
 * loop over lanes), so the source is kept small: scalar loads through element strides (one
 * source for every transpose), one k loop whose last partial step masks b instead of a tail
 * loop, vec4 stores. Measured on lavapipe against quad broadcasts, vec4 loads and 8×8 or 32×4
 * blocks, this was the fastest.
 */
export function matmulCpuKernel(spec: MatmulKernelSpec, rows = CPU_ROWS): KernelPlan | KernelProgram {
  const { geometry: g, dtype, epilogue } = spec;
  const vecOut = g.n % 4 === 0;
  const key = `matmul_cpu_r${rows}${vecOut ? "_v4" : ""}_${dtype}${epilogueKey(epilogue)}`;
  const columnBlocks = Math.ceil(g.n / (LANES * CPU_COLS));
  const rowBlocks = Math.ceil(g.m / rows);
  if (columnBlocks > MAX_GROUPS || rowBlocks > MAX_GROUPS) {
    throw new RangeError(
      `Cannot run matmul of ${g.m}×${g.k} by ${g.k}×${g.n}: the grid needs ${columnBlocks}×${rowBlocks} workgroups, at most ${MAX_GROUPS} per dimension`,
    );
  }
  // lavapipe runs workgroups in order, x fastest: neighbours in x share what they read. Keep b's
  // 32-column strip in cache (rows fastest) unless all of b fits in a core's L2 anyway.
  const rowsFastest = g.k * g.n * 4 > L2_BUDGET_BYTES;
  const workgroups = (count: number): [number, number, number] =>
    rowsFastest ? [rowBlocks, columnBlocks, count] : [columnBlocks, rowBlocks, count];
  const strides = operandStrides(spec);
  const makeParams = (batch0: number) => {
    const params = new Params()
      .u32("m", g.m)
      .u32("n", g.n)
      .u32("k", g.k)
      .f32("alpha", epilogue.alpha)
      .u32("rowsFastest", rowsFastest ? 1 : 0);
    params.u32("sAm", strides.sAm).u32("sAk", strides.sAk).u32("sBk", strides.sBk).u32("sBn", strides.sBn);
    return addBatchParams(params, g, batch0);
  };
  return splitBatch(g.batch, (batch0, count) => ({
    key,
    wgsl: () => cpuSource(spec, rows, vecOut, makeParams(0)),
    params: makeParams(batch0).pack(),
    workgroups: workgroups(count),
  }));
}

function cpuSource(spec: MatmulKernelSpec, rows: number, vecOut: boolean, params: Params): string {
  const { dtype, epilogue } = spec;
  const lines: string[] = ["enable subgroups;"];
  if (dtype === "f16") lines.push("enable f16;");
  lines.push(params.struct());
  let binding = 1;
  lines.push(storageDecl(binding++, "a", dtype, false), storageDecl(binding++, "b", dtype, false));
  if (epilogue.hasBias) lines.push(storageDecl(binding++, "bias", dtype, false));
  if (epilogue.hasResidual) lines.push(storageDecl(binding++, "res", dtype, vecOut));
  lines.push(storageDecl(binding, "y", dtype, vecOut, true));
  lines.push(activationHelpers(epilogue.activation));
  if (vecOut) lines.push(activationVec4Helper(epilogue.activation));
  lines.push(`@compute @workgroup_size(${LANES})`);
  lines.push("fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32,");
  lines.push("        @builtin(subgroup_invocation_id) sid: u32, @builtin(subgroup_size) sgSize: u32) {");
  lines.push(...batchOffsetLines());
  // 1. the sharing group: G lanes of one subgroup, `first` its lowest subgroup lane
  lines.push(`  let group = min(sgSize, ${LANES}u);`, "  let member = sid % group;", "  let first = sid - member;");
  // 2. owned rows (clamped for loads) and columns
  lines.push(
    "  let rowBlock = select(wid.y, wid.x, p.rowsFastest == 1u);",
    "  let columnBlock = select(wid.x, wid.y, p.rowsFastest == 1u);",
  );
  lines.push(`  let row0 = rowBlock * ${rows}u;`);
  for (let r = 0; r < rows; r++) lines.push(`  let aRow${r} = offA + min(row0 + ${r}u, p.m - 1u) * p.sAm;`);
  for (let c = 0; c < CPU_COLS; c++) {
    const offset = vecOut ? `lid * ${CPU_COLS}u + ${c}u` : `lid + ${LANES * c}u`;
    lines.push(`  let n${c} = columnBlock * ${LANES * CPU_COLS}u + ${offset};`);
    lines.push(`  let bCol${c} = offB + min(n${c}, p.n - 1u) * p.sBn;`);
  }
  for (let r = 0; r < rows; r++) for (let c = 0; c < CPU_COLS; c++) lines.push(`  var acc${r}_${c} = 0.0;`);
  // 3. one loop over k in steps of G: lane `member` reads k0 + member of every row of a (the last
  // partial step reads row k - 1 again and masks b to zero), the group shares them by shuffles
  lines.push("  for (var k0 = 0u; k0 < p.k; k0 += group) {");
  lines.push("    let kOwn = min(k0 + member, p.k - 1u) * p.sAk;");
  for (let r = 0; r < rows; r++) lines.push(`    let al${r} = f32(a[aRow${r} + kOwn]);`);
  lines.push("    for (var j = 0u; j < group; j++) {");
  for (let r = 0; r < rows; r++) lines.push(`      let a${r} = subgroupShuffle(al${r}, first + j);`);
  lines.push(...multiplyAdd(rows, "k0 + j", "      "));
  lines.push("    }");
  lines.push("  }");
  // 4. epilogue and store
  lines.push(...(vecOut ? vectorStores(spec, rows) : scalarStores(spec, rows)));
  lines.push("}");
  return lines.join("\n");
}

/** Scalar stores: the lane's columns are strided by 8 (any n). */
function scalarStores(spec: MatmulKernelSpec, rows: number): string[] {
  const { epilogue, dtype } = spec;
  const lines: string[] = [];
  for (let c = 0; c < CPU_COLS; c++) {
    if (epilogue.hasBias) lines.push(`  let bias${c} = f32(bias[min(n${c}, p.n - 1u)]);`);
  }
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < CPU_COLS; c++) {
      lines.push(`  if (row0 + ${r}u < p.m && n${c} < p.n) {`);
      lines.push(`    let at = offY + (row0 + ${r}u) * p.n + n${c};`);
      lines.push(...epilogueWgsl(epilogue, "o", `acc${r}_${c}`, `bias${c}`, "f32(res[at])").map((line) => `    ${line}`));
      lines.push(`    y[at] = ${dtype}(o);`);
      lines.push("  }");
    }
  }
  return lines;
}

/**
 * vec4 stores when n % 4 = 0: the lane's 4 columns are adjacent, so each row is one store (a
 * quarter of the store sites, which is most of what lavapipe spends compiling this kernel).
 */
function vectorStores(spec: MatmulKernelSpec, rows: number): string[] {
  const { epilogue, dtype } = spec;
  const lines: string[] = [];
  if (epilogue.hasBias) {
    const parts = Array.from({ length: CPU_COLS }, (_, c) => `f32(bias[min(n${c}, p.n - 1u)])`);
    lines.push(`  let biasV = vec4<f32>(${parts.join(", ")});`);
  }
  const accs = (r: number) => Array.from({ length: CPU_COLS }, (_, c) => `acc${r}_${c}`).join(", ");
  for (let r = 0; r < rows; r++) {
    lines.push(`  if (row0 + ${r}u < p.m && n0 < p.n) {`);
    lines.push(`    let at = (offY + (row0 + ${r}u) * p.n + n0) / 4u;`);
    lines.push(...epilogueWgslVec4(epilogue, "o", `vec4<f32>(${accs(r)})`, "biasV", "vec4<f32>(res[at])").map((line) => `    ${line}`));
    lines.push(`    y[at] = vec4<${dtype}>(o);`);
    lines.push("  }");
  }
  return lines;
}

/** Reads the lane's 4 values of b at row `k` and adds their products with a0…a{rows-1}. */
function multiplyAdd(rows: number, k: string, indent: string): string[] {
  const lines = [`${indent}let kj = ${k};`, `${indent}let live = kj < p.k;`, `${indent}let bk = min(kj, p.k - 1u) * p.sBk;`];
  for (let c = 0; c < CPU_COLS; c++) lines.push(`${indent}let b${c} = select(0.0, f32(b[bCol${c} + bk]), live);`);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < CPU_COLS; c++) lines.push(`${indent}acc${r}_${c} = fma(a${r}, b${c}, acc${r}_${c});`);
  }
  return lines;
}
