// The register-blocked implicit-GEMM skeleton the three conv2d kernels share (forward, gradient
// of the input, gradient of the weight). Each kernel supplies how to read its "a" (always read
// along rows) and "b" (read along the lane's columns) at a step k of its reduction; this file
// supplies the accumulators, the loop that shares a's loads across lanes, and the stores.
import type { DType } from "../../tensor/dtype.ts";
import type { KernelContext } from "../op_def.ts";

/** Invocations along the columns of a workgroup (and lanes that share a's loads). */
export const LANES = 8;
/** Columns per invocation, strided by LANES: a workgroup owns 32 adjacent columns. */
export const COLS = 4;

/**
 * How a kernel is blocked: on CPU adapters with subgroups one workgroup of 8 owns 16 rows and the
 * lanes share a's loads (see matmul_kernel_cpu.ts for why); elsewhere 8×8 invocations each own 4
 * rows and read a themselves.
 */
export interface Blocking {
  share: boolean;
  /** The invocation's 4 columns are adjacent and stored as one vec4 (column count % 4 = 0). */
  vecOut: boolean;
  /** Rows per invocation. */
  rows: number;
  /** Invocations along the rows of a workgroup. */
  rowGroups: number;
}

/** The blocking for an adapter, and vec4 stores when the column count allows. */
export function chooseBlocking(context: KernelContext, columns: number): Blocking {
  const vecOut = columns % 4 === 0;
  if (context.isCpuAdapter && context.hasSubgroups) return { share: true, vecOut, rows: 16, rowGroups: 1 };
  return { share: false, vecOut, rows: 4, rowGroups: 8 };
}

/** Kernel-key suffix naming the blocking. */
export function blockingKey(blocking: Blocking): string {
  return `${blocking.share ? "cpu" : "blocked"}${blocking.vecOut ? "_v4" : ""}`;
}

/** Rows one workgroup covers. */
export function rowsPerGroup(blocking: Blocking): number {
  return blocking.rows * blocking.rowGroups;
}

/** Shader header: extensions, params, bindings (inputs read-only, the last one the output). */
export function header(dtype: DType, blocking: Blocking, paramsStruct: string, names: readonly string[]): string[] {
  const lines: string[] = [];
  if (blocking.share) lines.push("enable subgroups;");
  if (dtype === "f16") lines.push("enable f16;");
  lines.push(paramsStruct);
  names.forEach((name, i) => {
    const isOutput = i === names.length - 1;
    const element = isOutput && blocking.vecOut ? `vec4<${dtype}>` : dtype;
    lines.push(`@group(0) @binding(${i + 1}) var<storage, ${isOutput ? "read_write" : "read"}> ${name}: array<${element}>;`);
  });
  return lines;
}

/** Entry point and the invocation's first row `row0` and columns `col0…col3`. */
export function entry(blocking: Blocking): string[] {
  const lines = [`@compute @workgroup_size(${LANES}, ${blocking.rowGroups})`];
  const builtins = ["@builtin(workgroup_id) wid: vec3u", "@builtin(local_invocation_id) lid: vec3u"];
  if (blocking.share) builtins.push("@builtin(subgroup_invocation_id) sid: u32", "@builtin(subgroup_size) sgSize: u32");
  lines.push(`fn main(${builtins.join(", ")}) {`);
  lines.push(`  let row0 = (wid.y * ${blocking.rowGroups}u + lid.y) * ${blocking.rows}u;`);
  for (let c = 0; c < COLS; c++) {
    const offset = blocking.vecOut ? `lid.x * ${COLS}u + ${c}u` : `lid.x + ${LANES * c}u`;
    lines.push(`  let col${c} = wid.x * ${LANES * COLS}u + ${offset};`);
  }
  if (blocking.share) lines.push(`  let group = min(sgSize, ${LANES}u);`, "  let member = sid % group;", "  let first = sid - member;");
  for (let r = 0; r < blocking.rows; r++) for (let c = 0; c < COLS; c++) lines.push(`  var acc${r}_${c} = 0.0;`);
  return lines;
}

/** One reduction loop of a kernel: its length and how to read a and b at a step. */
export interface ReductionLoop {
  /** WGSL expression: how many k this loop runs over. */
  count: string;
  /** Row r's value of a at step `k` (an f32 expression). */
  a: (r: number, k: string) => string;
  /** Column c's value of b at step `k` (an f32 expression, 0 outside the input). */
  b: (c: number, k: string) => string;
  indent: string;
}

/**
 * The multiply-add loop over k. Sharing: each lane of a group reads one k of every row of a and
 * `subgroupShuffle` passes the values around, so the group reads a once per G steps; in the last
 * partial step lanes read the last k again and b is masked to zero (one loop instead of a main
 * loop and a tail: lavapipe's compile time grows with every memory access in the source).
 */
export function reductionLoop(blocking: Blocking, loop: ReductionLoop): string[] {
  const { indent: i } = loop;
  const lines: string[] = [];
  const fmas = (inner: string, masked: boolean) => {
    const out: string[] = [];
    if (masked) out.push(`${inner}let live = k < ${loop.count};`, `${inner}let kc = min(k, ${loop.count} - 1u);`);
    for (let c = 0; c < COLS; c++) {
      out.push(masked ? `${inner}let b${c} = select(0.0, ${loop.b(c, "kc")}, live);` : `${inner}let b${c} = ${loop.b(c, "k")};`);
    }
    for (let r = 0; r < blocking.rows; r++) {
      for (let c = 0; c < COLS; c++) out.push(`${inner}acc${r}_${c} = fma(a${r}, b${c}, acc${r}_${c});`);
    }
    return out;
  };
  if (!blocking.share) {
    lines.push(`${i}for (var k = 0u; k < ${loop.count}; k++) {`);
    for (let r = 0; r < blocking.rows; r++) lines.push(`${i}  let a${r} = ${loop.a(r, "k")};`);
    lines.push(...fmas(`${i}  `, false), `${i}}`);
    return lines;
  }
  lines.push(`${i}for (var k0 = 0u; k0 < ${loop.count}; k0 += group) {`);
  lines.push(`${i}  let kOwn = min(k0 + member, ${loop.count} - 1u);`);
  for (let r = 0; r < blocking.rows; r++) lines.push(`${i}  let al${r} = ${loop.a(r, "kOwn")};`);
  lines.push(`${i}  for (var j = 0u; j < group; j++) {`);
  lines.push(`${i}    let k = k0 + j;`);
  for (let r = 0; r < blocking.rows; r++) lines.push(`${i}    let a${r} = subgroupShuffle(al${r}, first + j);`);
  lines.push(...fmas(`${i}    `, true));
  lines.push(`${i}  }`, `${i}}`);
  return lines;
}

/** Stores every owned element inside `rowCount`×`colCount`, adding a per-row bias if given. */
export function storeBlock(
  blocking: Blocking,
  dtype: DType,
  rowCount: string,
  colCount: string,
  index: (r: number, c: number) => string,
  bias: ((r: number) => string) | null,
): string[] {
  const lines: string[] = [];
  for (let r = 0; r < blocking.rows; r++) {
    if (bias) lines.push(`  let bias${r} = ${bias(r)};`);
    if (blocking.vecOut) {
      // one vec4 store of the 4 adjacent columns (index(r, 0) is a multiple of 4)
      const values = Array.from({ length: COLS }, (_, c) => `acc${r}_${c}${bias ? ` + bias${r}` : ""}`).join(", ");
      lines.push(`  if (row0 + ${r}u < ${rowCount} && col0 < ${colCount}) {`);
      lines.push(`    y[(${index(r, 0)}) / 4u] = vec4<${dtype}>(vec4<f32>(${values}));`);
      lines.push("  }");
      continue;
    }
    for (let c = 0; c < COLS; c++) {
      lines.push(`  if (row0 + ${r}u < ${rowCount} && col${c} < ${colCount}) {`);
      lines.push(`    y[${index(r, c)}] = ${dtype}(acc${r}_${c}${bias ? ` + bias${r}` : ""});`);
      lines.push("  }");
    }
  }
  return lines;
}
