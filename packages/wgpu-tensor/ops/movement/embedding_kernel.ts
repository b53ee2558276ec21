import { type DType, wgslType } from "../../tensor/dtype.ts";
import { linearGrid, linearMain } from "../../wgsl/grid.ts";
import { Params } from "../../wgsl/params.ts";
import type { ByteWindow, WindowedPlan } from "./windowed_run.ts";

const WORKGROUP_SIZE = 256;

/** The row table's geometry: `rows` rows of `dim` values, bound as windows of `windowElems` elements. */
export interface RowTable {
  dtype: DType;
  idsDType: "i32" | "u32";
  rows: number;
  dim: number;
  windowElems: number;
  windows: readonly ByteWindow[];
}

function header(table: RowTable): string[] {
  return table.dtype === "f16" ? ["enable f16;"] : [];
}

/** WGSL that finds element (id, d) as (window, index within window) and says whether id is a row. */
function locateRow(table: RowTable): string {
  const valid = table.idsDType === "i32" ? "id >= 0 && u32(id) < p.rows" : "id < p.rows";
  return `  let inRange = ${valid};
  let element = u32(id) * p.dim + d;
  let win = element / p.windowElems;
  let local = element - win * p.windowElems;`;
}

/** `if (win == 0u) { stmt(w0) } else if …` over the windows. */
function perWindow(count: number, statement: (name: string) => string): string {
  return Array.from({ length: count }, (_, j) => `if (win == ${j}u) { ${statement(`w${j}`)} }`).join(" else ");
}

/**
 * y[n, d] = weight[ids[n], d], one invocation per output element (ids outside [0, rows) give 0).
 * The weight is bound as `windows.length` windows of one buffer and each element is read from the
 * window holding it, so the table may exceed `maxStorageBufferBindingSize`.
 */
export function embeddingPlan(table: RowTable, count: number): WindowedPlan {
  const k = table.windows.length;
  const params = new Params()
    .u32("size", count * table.dim)
    .u32("dim", table.dim)
    .u32("rows", table.rows)
    .u32("windowElems", table.windowElems);
  const type = wgslType(table.dtype);
  const source = () =>
    [
      ...header(table),
      params.struct(),
      `@group(0) @binding(1) var<storage, read> ids: array<${table.idsDType}>;`,
      ...table.windows.map((_, j) => `@group(0) @binding(${j + 2}) var<storage, read> w${j}: array<${type}>;`),
      `@group(0) @binding(${k + 2}) var<storage, read_write> y: array<${type}>;`,
      linearMain(WORKGROUP_SIZE),
      "  if (index >= p.size) { return; }",
      // 1. which id and column (lanes share an id, so the id load is uniform across them)
      "  let n = index / p.dim;",
      "  let d = index - n * p.dim;",
      "  let id = ids[n];",
      // 2. which window holds the row
      locateRow(table),
      // 3. read it
      `  var v = ${type}(0);`,
      `  if (inRange) { ${perWindow(k, (w) => `v = ${w}[local];`)} }`,
      "  y[index] = v;",
      "}",
    ].join("\n");
  return {
    key: `embedding_${table.dtype}_${table.idsDType}_w${k}`,
    wgsl: source,
    params: params.pack(),
    workgroups: linearGrid(count * table.dim, WORKGROUP_SIZE),
    bindings: [{ ref: { input: 1 } }, ...table.windows.map((window) => ({ ref: { input: 0 }, window })), { ref: "output" }],
  };
}

/** Zeros one window of the output (the first pass of the embedding gradient). */
export function zeroWindowPlan(dtype: DType, window: ByteWindow, size: number): WindowedPlan {
  const params = new Params().u32("size", size);
  const type = wgslType(dtype);
  return {
    key: `embedding_grad_zero_${dtype}`,
    wgsl: () =>
      [
        ...(dtype === "f16" ? ["enable f16;"] : []),
        params.struct(),
        `@group(0) @binding(1) var<storage, read_write> y: array<${type}>;`,
        linearMain(WORKGROUP_SIZE),
        "  if (index >= p.size) { return; }",
        `  y[index] = ${type}(0);`,
        "}",
      ].join("\n"),
    params: params.pack(),
    workgroups: linearGrid(size, WORKGROUP_SIZE),
    bindings: [{ ref: "output", window }],
  };
}

/**
 * dW[v, d] = Σ_{n : ids[n] = v} dy[n, d] without atomics: invocation (n, d) works only when n is
 * the FIRST position holding its id, sums dy over that id's positions in order and writes the row
 * once. First positions have distinct ids, so no two invocations write the same element, and the
 * sum order is fixed (deterministic). Cost O(count² · dim) for `count` ids (the id scans are
 * uniform across the lanes of one n); rows no id names keep the zeros of `zeroWindowPlan`.
 */
export function embeddingGradPlan(table: RowTable, count: number): WindowedPlan {
  const k = table.windows.length;
  const params = new Params()
    .u32("size", count * table.dim)
    .u32("dim", table.dim)
    .u32("count", count)
    .u32("rows", table.rows)
    .u32("windowElems", table.windowElems);
  const type = wgslType(table.dtype);
  const source = () =>
    [
      ...header(table),
      params.struct(),
      `@group(0) @binding(1) var<storage, read> ids: array<${table.idsDType}>;`,
      `@group(0) @binding(2) var<storage, read> dy: array<${type}>;`,
      ...table.windows.map((_, j) => `@group(0) @binding(${j + 3}) var<storage, read_write> w${j}: array<${type}>;`),
      linearMain(WORKGROUP_SIZE),
      "  if (index >= p.size) { return; }",
      "  let n = index / p.dim;",
      "  let d = index - n * p.dim;",
      "  let id = ids[n];",
      locateRow(table),
      "  if (!inRange) { return; }",
      // 1. only the first position of each id writes
      "  for (var m = 0u; m < n; m++) {",
      "    if (ids[m] == id) { return; }",
      "  }",
      // 2. sum this id's rows of dy in position order, in f32
      "  var sum = 0.0;",
      "  for (var m = n; m < p.count; m++) {",
      "    if (ids[m] == id) { sum += f32(dy[m * p.dim + d]); }",
      "  }",
      // 3. one write into the window holding the row
      `  ${perWindow(k, (w) => `${w}[local] = ${type}(sum);`)}`,
      "}",
    ].join("\n");
  return {
    key: `embedding_grad_${table.dtype}_${table.idsDType}_w${k}`,
    wgsl: source,
    params: params.pack(),
    workgroups: linearGrid(count * table.dim, WORKGROUP_SIZE),
    bindings: [{ ref: { input: 1 } }, { ref: { input: 0 } }, ...table.windows.map((window) => ({ ref: "output" as const, window }))],
  };
}
