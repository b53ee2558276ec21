// WGSL pieces shared by the attention kernels. Every kernel has the same shape: each invocation
// owns ROWS rows of one side (queries in forward and dQ, keys in dK and dV) held in private arrays,
// and streams over the other side in blocks of BLOCK rows whose addresses depend only on the
// workgroup and the loop counters. On CPU adapters those loads are lane-uniform, so a load is one
// scalar read broadcast to all SIMD lanes, and each loaded value feeds ROWS fused multiply-adds.
import { type DType, wgslType } from "../../tensor/dtype.ts";
import type { Params } from "../../wgsl/params.ts";

/** Invocations per workgroup: one 8-lane SIMD group on lavapipe. */
export const LANES = 8;
/**
 * Rows each invocation owns. Every streamed value loaded feeds ROWS multiply-adds and every owned
 * value read feeds BLOCK; on lavapipe a load costs about as much as a dozen multiply-adds, so both
 * should be large, but the unrolled ROWS × BLOCK body also sets the LLVM compile time (measured
 * cold: 8 × 4 compiles the four gradient kernels in ~13 s, 16 × 8 in ~40 s, for a similar speed).
 */
export const ROWS = 8;
/** Streamed rows per block (scores held in registers at once: ROWS × BLOCK). */
export const BLOCK = 4;
/** Rows one workgroup owns. */
export const ROWS_PER_GROUP = LANES * ROWS;

/** Finite stand-in for −∞ as the running max's start and for hidden scores (WGSL has no ∞ literal). */
export const LOWEST = "-3.0e38";

/** Indices 0 … n−1, for unrolling in code generation. */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** One storage binding: a name and whether the kernel writes it. */
export interface BindingDecl {
  name: string;
  isOutput?: boolean;
  /** Element type; default: the tensors' storage type. */
  type?: "f32";
}

/** `enable f16`, the Params struct and the storage bindings at 1, 2, … */
export function kernelHeader(dtype: DType, params: Params, bindings: readonly BindingDecl[]): string {
  const storage = wgslType(dtype);
  const lines = dtype === "f16" ? ["enable f16;"] : [];
  lines.push(params.struct());
  bindings.forEach((binding, i) => {
    const access = binding.isOutput ? "read_write" : "read";
    lines.push(`@group(0) @binding(${i + 1}) var<storage, ${access}> ${binding.name}: array<${binding.type ?? storage}>;`);
  });
  return lines.join("\n");
}

/** Entry point over a grid (owned-row groups, heads, batch); defines `head`, `batch`, `bh`, `lane`. */
export function mainStart(): string {
  return `@compute @workgroup_size(${LANES})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lane: u32) {
  let head = wid.y;
  let batch = wid.z;
  let bh = batch * p.heads + head;
  let firstOwned = wid.x * ${ROWS_PER_GROUP}u;`;
}

/** Declares `own{r}` = the r-th owned row index (consecutive lanes own consecutive rows). */
export function ownedRows(): string[] {
  return range(ROWS).map((r) => `  let own${r} = firstOwned + ${r * LANES}u + lane;`);
}

/**
 * Declares private arrays `${name}{r}` and fills them from `buffer` rows `rowBase(r)` (clamped to
 * valid rows by the caller), times `factor` if given.
 */
export function loadOwned(name: string, capacity: number, buffer: string, rowBase: (r: number) => string, length: string, factor = ""): string[] {
  const lines = range(ROWS).map((r) => `  var ${name}${r}: array<f32, ${capacity}>;`);
  lines.push(`  for (var c = 0u; c < ${length}; c++) {`);
  for (const r of range(ROWS)) lines.push(`    ${name}${r}[c] = f32(${buffer}[${rowBase(r)} + c])${factor};`);
  lines.push("  }");
  return lines;
}

/**
 * `${out}{r}_{t}` = Σ_c owned[r][c]·stream[t][c]: ROWS × BLOCK dot products, each streamed value
 * loaded once (lane-uniform) and used ROWS times.
 */
export function dotBlock(out: string, owned: string, buffer: string, streamBase: (t: number) => string, length: string): string[] {
  const lines: string[] = [];
  for (const r of range(ROWS)) for (const t of range(BLOCK)) lines.push(`    var ${out}${r}_${t} = 0.0;`);
  lines.push(`    for (var c = 0u; c < ${length}; c++) {`);
  for (const r of range(ROWS)) lines.push(`      let x${r} = ${owned}${r}[c];`);
  for (const t of range(BLOCK)) {
    lines.push(`      let y${t} = f32(${buffer}[${streamBase(t)} + c]);`);
    for (const r of range(ROWS)) lines.push(`      ${out}${r}_${t} = fma(x${r}, y${t}, ${out}${r}_${t});`);
  }
  lines.push("    }");
  return lines;
}

/**
 * `${acc}{r}[c]` = `${acc}{r}[c]`·rescale(r) + Σ_t weight{r}_{t}·stream[t][c] (rescale optional).
 */
export function accumulateBlock(
  acc: string,
  weight: string,
  buffer: string,
  streamBase: (t: number) => string,
  length: string,
  rescale?: (r: number) => string,
): string[] {
  const lines = [`    for (var c = 0u; c < ${length}; c++) {`];
  for (const t of range(BLOCK)) lines.push(`      let y${t} = f32(${buffer}[${streamBase(t)} + c]);`);
  for (const r of range(ROWS)) {
    const start = rescale ? `${acc}${r}[c] * ${rescale(r)}` : `${acc}${r}[c]`;
    lines.push(`      var a${r} = ${start};`);
    for (const t of range(BLOCK)) lines.push(`      a${r} = fma(${weight}${r}_${t}, y${t}, a${r});`);
    lines.push(`      ${acc}${r}[c] = a${r};`);
  }
  lines.push("    }");
  return lines;
}

/** Writes `${acc}{r}[c]·factor(r)` to `out` row `rowBase(r)` for owned rows that exist. */
export function storeOwned(acc: string, out: string, dtype: DType, rowBase: (r: number) => string, length: string, isRow: (r: number) => string, factor: (r: number) => string): string[] {
  const storage = wgslType(dtype);
  const lines: string[] = [];
  for (const r of range(ROWS)) {
    lines.push(`  if (${isRow(r)}) {`);
    lines.push(`    let f${r} = ${factor(r)};`);
    lines.push(`    for (var c = 0u; c < ${length}; c++) { ${out}[${rowBase(r)} + c] = ${storage}(${acc}${r}[c] * f${r}); }`);
    lines.push("  }");
  }
  return lines;
}

/** The additive mask's element for query `i` and key `j` (mask strides are uniforms). */
export function maskAt(i: string, j: string): string {
  return `f32(mask[batch * p.maskB + head * p.maskH + ${i} * p.maskI + ${j} * p.maskJ])`;
}

/** A nested max over the given expressions. */
export function maxOf(values: readonly string[]): string {
  if (values.length === 1) return values[0];
  return `max(${values[0]}, ${maxOf(values.slice(1))})`;
}
