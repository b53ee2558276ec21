// WGSL pieces shared by the attention kernels. Every kernel has the same shape: each invocation
// owns `rows` rows of one side (queries in forward, statistics and dQ; keys in dK and dV) held in
// private arrays, and streams over the other side in blocks of `block` rows whose addresses depend
// only on the workgroup and the loop counters. On CPU adapters those loads are lane-uniform, so a
// load is one scalar read broadcast to all SIMD lanes, and each loaded value feeds `rows`
// multiply-adds; each owned value read feeds `block`.
import { type DType, wgslType } from "../../tensor/dtype.ts";
import type { Params } from "../../wgsl/params.ts";

/** Invocations per workgroup: one 8-lane SIMD group on lavapipe. */
export const LANES = 8;

/** How a kernel is blocked, and how many floats its private row arrays hold. */
export interface Layout {
  rows: number;
  block: number;
  /** Private array length: at least the head sizes (loops run to the real size, a uniform). */
  capacity: number;
}

/**
 * Blocking of the forward kernel. On lavapipe a load (lane-uniform or private) costs about a dozen
 * multiply-adds, so larger blocks run faster, but the unrolled rows × block body also sets the
 * LLVM compile time; the hot forward kernel gets the larger block.
 */
export const FORWARD_BLOCKING = { rows: 8, block: 4 };

/**
 * Blocking of the gradient kernels, whose bodies hold two or three products each: measured cold
 * on 2 busy cores, the four of them compiled in ~50 s at 8 × 4 and ~25 s at 4 × 4.
 */
export const GRAD_BLOCKING = { rows: 4, block: 4 };

/**
 * Private-array capacity for head sizes: the next multiple of 32. WGSL zero-initialises private
 * arrays, which lavapipe compiles element by element, so a capacity far above the head size costs
 * compile time (not run time); a few sizes per model means a few kernels.
 */
export function headCapacity(...sizes: number[]): number {
  return Math.max(32, Math.ceil(Math.max(...sizes) / 32) * 32);
}

/** Rows one workgroup owns. */
export function rowsPerGroup(layout: Layout): number {
  return LANES * layout.rows;
}

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

/**
 * Entry point over a grid (owned-row groups, heads, batch); defines `head`, `batch`, `bh` and the
 * owned row indices `own{r}` (consecutive lanes own consecutive rows).
 */
function mainStart(layout: Layout): string[] {
  const lines = [
    `@compute @workgroup_size(${LANES})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lane: u32) {
  let head = wid.y;
  let batch = wid.z;
  let bh = batch * p.heads + head;
  let firstOwned = wid.x * ${rowsPerGroup(layout)}u;`,
  ];
  for (const r of range(layout.rows)) lines.push(`  let own${r} = firstOwned + ${r * LANES}u + lane;`);
  return lines;
}

/** Declares zeroed private arrays `${name}{r}`, one per owned row. */
export function ownedArrays(layout: Layout, name: string): string[] {
  return range(layout.rows).map((r) => `  var ${name}${r}: array<f32, ${layout.capacity}>;`);
}

/**
 * Declares private arrays `${name}{r}` and fills them from `buffer` rows `rowBase(r)` (clamped to
 * valid rows by the caller), times `factor` if given.
 */
export function loadOwned(
  layout: Layout,
  name: string,
  buffer: string,
  rowBase: (r: number) => string,
  length: string,
  factor = "",
): string[] {
  const lines = ownedArrays(layout, name);
  lines.push(`  for (var c = 0u; c < ${length}; c++) {`);
  for (const r of range(layout.rows)) lines.push(`    ${name}${r}[c] = f32(${buffer}[${rowBase(r)} + c])${factor};`);
  lines.push("  }");
  return lines;
}

/**
 * `${out}{r}_{t}` = Σ_c owned[r][c]·stream[t][c]: rows × block dot products, each streamed value
 * loaded once (lane-uniform) and used `rows` times.
 */
export function dotBlock(
  layout: Layout,
  out: string,
  owned: string,
  buffer: string,
  streamBase: (t: number) => string,
  length: string,
): string[] {
  const lines: string[] = [];
  for (const r of range(layout.rows)) for (const t of range(layout.block)) lines.push(`    var ${out}${r}_${t} = 0.0;`);
  lines.push(`    for (var c = 0u; c < ${length}; c++) {`);
  for (const r of range(layout.rows)) lines.push(`      let x${r} = ${owned}${r}[c];`);
  for (const t of range(layout.block)) {
    lines.push(`      let y${t} = f32(${buffer}[${streamBase(t)} + c]);`);
    for (const r of range(layout.rows)) lines.push(`      ${out}${r}_${t} = fma(x${r}, y${t}, ${out}${r}_${t});`);
  }
  lines.push("    }");
  return lines;
}

/** `${acc}{r}[c]` = `${acc}{r}[c]`·rescale(r) + Σ_t weight{r}_{t}·stream[t][c] (rescale optional). */
export function accumulateBlock(
  layout: Layout,
  acc: string,
  weight: string,
  buffer: string,
  streamBase: (t: number) => string,
  length: string,
  rescale?: (r: number) => string,
): string[] {
  const lines = [`    for (var c = 0u; c < ${length}; c++) {`];
  for (const t of range(layout.block)) lines.push(`      let y${t} = f32(${buffer}[${streamBase(t)} + c]);`);
  for (const r of range(layout.rows)) {
    const start = rescale ? `${acc}${r}[c] * ${rescale(r)}` : `${acc}${r}[c]`;
    lines.push(`      var a${r} = ${start};`);
    for (const t of range(layout.block)) lines.push(`      a${r} = fma(${weight}${r}_${t}, y${t}, a${r});`);
    lines.push(`      ${acc}${r}[c] = a${r};`);
  }
  lines.push("    }");
  return lines;
}

/** Writes `${acc}{r}[c]·factor(r)` to `out` row `rowBase(r)` for owned rows that exist. */
export function storeOwned(
  layout: Layout,
  acc: string,
  out: { name: string; dtype: DType },
  rowBase: (r: number) => string,
  length: string,
  isRow: (r: number) => string,
  factor: (r: number) => string,
): string[] {
  const storage = wgslType(out.dtype);
  const lines: string[] = [];
  for (const r of range(layout.rows)) {
    lines.push(`  if (${isRow(r)}) {`);
    lines.push(`    let f${r} = ${factor(r)};`);
    lines.push(`    for (var c = 0u; c < ${length}; c++) { ${out.name}[${rowBase(r)} + c] = ${storage}(${acc}${r}[c] * f${r}); }`);
    lines.push("  }");
  }
  return lines;
}

/** The additive mask's element for query `i` and key `j` (mask strides are uniforms). */
export function maskAt(i: string, j: string): string {
  return `f32(mask[batch * p.maskB + head * p.maskH + ${i} * p.maskI + ${j} * p.maskJ])`;
}

/**
 * Start of a kernel owning query rows (forward, statistics, dQ): the pre-scaled rows `queryRow{r}`
 * and the end of the key loop; a causal group stops after the last key its rows can see.
 */
export function queryOwnedStart(layout: Layout): string[] {
  const queryRow = (r: number) => `(bh * p.lq + min(own${r}, p.lq - 1u)) * p.d`;
  return [
    ...mainStart(layout),
    ...loadOwned(layout, "queryRow", "q", queryRow, "p.d", " * p.scale"),
    "  let keyBase = bh * p.lk;",
    `  let keyEnd = select(p.lk, min(p.lk, firstOwned + ${rowsPerGroup(layout)}u), p.causal != 0u);`,
  ];
}

/**
 * Inside the key loop (counter `j0`): clamped key indices `key{t}`, visibility `ok{r}_{t}` (in
 * range, and not above the diagonal when causal) and scores `s{r}_{t}` = q·k·scale + mask, the
 * lowest finite value where hidden.
 */
export function queryOwnedScores(layout: Layout, hasMask: boolean): string[] {
  const lines: string[] = [];
  for (const t of range(layout.block)) lines.push(`    let key${t} = min(j0 + ${t}u, p.lk - 1u);`);
  lines.push(...dotBlock(layout, "s", "queryRow", "k", (t) => `(keyBase + key${t}) * p.d`, "p.d"));
  for (const r of range(layout.rows)) {
    for (const t of range(layout.block)) {
      const score = hasMask ? `s${r}_${t} + ${maskAt(`min(own${r}, p.lq - 1u)`, `key${t}`)}` : `s${r}_${t}`;
      lines.push(`    let ok${r}_${t} = j0 + ${t}u < p.lk && (p.causal == 0u || j0 + ${t}u <= own${r});`);
      lines.push(`    s${r}_${t} = select(${LOWEST}, ${score}, ok${r}_${t});`);
    }
  }
  return lines;
}

/**
 * Start of a kernel owning key rows (dK, dV): the pre-scaled rows `keyRow{r}` and the start of the
 * query loop; when causal, query i sees key j only if i ≥ j, so queries before the group's first
 * key are skipped.
 */
export function keyOwnedStart(layout: Layout): string[] {
  const keyRow = (r: number) => `(bh * p.lk + min(own${r}, p.lk - 1u)) * p.d`;
  return [
    ...mainStart(layout),
    ...loadOwned(layout, "keyRow", "k", keyRow, "p.d", " * p.scale"),
    "  let queryBase = bh * p.lq;",
    "  let queryStart = select(0u, firstOwned, p.causal != 0u);",
  ];
}

/**
 * Inside the query loop (counter `i0`): clamped query indices `query{t}`, their saved `lse{t}`, and
 * P = exp(q·k·scale + mask − lse) as `w{r}_{t}`, 0 where hidden.
 */
export function keyOwnedProbabilities(layout: Layout, hasMask: boolean): string[] {
  const lines: string[] = [];
  for (const t of range(layout.block)) {
    lines.push(`    let query${t} = min(i0 + ${t}u, p.lq - 1u);`);
    lines.push(`    let lse${t} = stats[(queryBase + query${t}) * 2u];`);
  }
  lines.push(...dotBlock(layout, "s", "keyRow", "q", (t) => `(queryBase + query${t}) * p.d`, "p.d"));
  for (const r of range(layout.rows)) {
    for (const t of range(layout.block)) {
      const visible = `i0 + ${t}u < p.lq && (p.causal == 0u || own${r} <= i0 + ${t}u)`;
      const score = hasMask ? `s${r}_${t} + ${maskAt(`query${t}`, `min(own${r}, p.lk - 1u)`)}` : `s${r}_${t}`;
      lines.push(`    let w${r}_${t} = select(0.0, exp(${score} - lse${t}), ${visible});`);
    }
  }
  return lines;
}

/** A nested max over the given expressions. */
export function maxOf(values: readonly string[]): string {
  if (values.length === 1) return values[0];
  return `max(${values[0]}, ${maxOf(values.slice(1))})`;
}
