import type { DType } from "../../tensor/dtype.ts";
import { linearGrid, linearMain } from "../../wgsl/grid.ts";
import { Params } from "../../wgsl/params.ts";
import type { BindingRef, KernelContext, KernelPlan, KernelProgram } from "../op_def.ts";
import { rowGeometry } from "../reduce/reduce_geometry.ts";
import { reducePasses } from "../reduce/reduce_kernel.ts";
import type { NormLayout } from "./norm_layout.ts";
import type { NormActivation } from "./norm_reference.ts";

export interface NormForwardSpec {
  /** Op name, for kernel keys. */
  name: string;
  dtype: DType;
  layout: NormLayout;
  eps: number;
  hasWeight: boolean;
  hasBias: boolean;
  activation: NormActivation;
  /** Chunks per row for the statistics, instead of the adapter-based choice (benchmarks). */
  splits?: number;
}

/** Elements one invocation of an elementwise norm pass handles (a run within one row). */
export function elementsPerInvocation(context: KernelContext): number {
  // CPU adapters: runs of 32 amortise the per-invocation index math while the 8 lanes of a SIMD
  // group stay within a few cache lines (runs of 256 measured slower); GPUs: one element each
  return context.isCpuAdapter ? 32 : 1;
}

/** Workgroup size of the norm passes. */
export function normWorkgroupSize(context: KernelContext): number {
  return context.isCpuAdapter ? 32 : 64;
}

/**
 * The per-row statistics (mean, 1/√(var + eps)) into scratch buffer `statsTemp`, through the
 * reduction kernel: two passes over each chunk of a row (mean, then Σ(x − mean)²), and for few
 * long rows several chunks per row merged with Chan's formula, so that 64 groups of 40960
 * elements still keep every core busy.
 */
export function rowStatsPasses(
  layout: NormLayout,
  dtype: DType,
  eps: number,
  input: BindingRef,
  statsTemp: number,
  context: KernelContext,
  splits?: number,
) {
  return reducePasses(
    {
      splits,
      op: "normStats",
      inDType: dtype,
      outDType: "f32",
      geometry: rowGeometry(layout.rows, layout.rowLength),
      eps,
      input,
      result: { temp: statsTemp },
      firstTemp: statsTemp + 1,
    },
    context,
  );
}

/** Statistics, then the normalisation with the fused affine (and activation) in one more pass. */
export function normForwardProgram(spec: NormForwardSpec, context: KernelContext): KernelProgram {
  const stats = rowStatsPasses(spec.layout, spec.dtype, spec.eps, { input: 0 }, 0, context, spec.splits);
  return {
    temps: [spec.layout.rows * 2 * 4, ...stats.temps],
    passes: [...stats.passes, normalizePass(spec, context)],
  };
}

/** Shared header of the elementwise norm passes: which run of which row this invocation owns. */
export function runHeader(
  layout: NormLayout,
  context: KernelContext,
): { params: Params; workgroups: [number, number, number]; workgroupSize: number } {
  const run = elementsPerInvocation(context);
  const chunksPerRow = Math.ceil(layout.rowLength / run);
  const workgroupSize = normWorkgroupSize(context);
  const params = new Params()
    .u32("rows", layout.rows)
    .u32("rowLength", layout.rowLength)
    .u32("inner", layout.inner)
    .u32("channels", layout.channels)
    .u32("chunksPerRow", chunksPerRow)
    .u32("run", run);
  return { params, workgroups: linearGrid(layout.rows * chunksPerRow, workgroupSize), workgroupSize };
}

/**
 * WGSL opening an elementwise norm pass: `row`, the run [t, tEnd) of it, the flat index `idx` and
 * the channel `c` with `r` elements of it already behind.
 */
export function runPrologue(workgroupSize: number): string[] {
  return [
    linearMain(workgroupSize),
    "  if (index >= p.rows * p.chunksPerRow) { return; }",
    "  let row = index / p.chunksPerRow;",
    "  var t = (index % p.chunksPerRow) * p.run;",
    "  let tEnd = min(p.rowLength, t + p.run);",
    "  var idx = row * p.rowLength + t;",
    "  var c = (idx / p.inner) % p.channels;",
    "  var r = idx % p.inner;",
  ];
}

/**
 * WGSL running `body` (statements for the element at index expression `at`) for `count`
 * elements starting at index variable `index`, four per loop iteration, advancing `index` past
 * them. `counter` names the loop variable; `indent` is the indentation of the emitted lines.
 */
export function unrolledLoop(count: string, index: string, counter: string, indent: string, body: (at: string) => string[]): string[] {
  const lines = [`${indent}var ${counter} = 0u;`, `${indent}for (; ${counter} + 4u <= ${count}; ${counter} += 4u) {`];
  for (const at of [index, `${index} + 1u`, `${index} + 2u`, `${index} + 3u`]) {
    lines.push(`${indent}  {`, ...body(at).map((line) => `${indent}    ${line}`), `${indent}  }`);
  }
  lines.push(`${indent}  ${index} += 4u;`, `${indent}}`, `${indent}for (; ${counter} < ${count}; ${counter}++) {`);
  lines.push(...body(index).map((line) => `${indent}  ${line}`), `${indent}  ${index} += 1u;`, `${indent}}`);
  return lines;
}

/** `unrolledLoop` over the `span` elements of a channel run from `idx`. */
export function unrolledSpan(body: (at: string) => string[]): string[] {
  return unrolledLoop("span", "idx", "k", "    ", body);
}

function normalizePass(spec: NormForwardSpec, context: KernelContext): KernelPlan {
  const { params, workgroups, workgroupSize } = runHeader(spec.layout, context);
  const { dtype, hasWeight, hasBias } = spec;
  const bindings: BindingRef[] = [{ input: 0 }, { temp: 0 }];
  if (hasWeight) bindings.push({ input: 1 });
  if (hasBias) bindings.push({ input: hasWeight ? 2 : 1 });
  bindings.push("output");
  const affine = `${hasWeight ? "w" : ""}${hasBias ? "b" : ""}`;
  const key = `${spec.name}_normalize_${dtype}_${affine || "plain"}_${spec.activation}_wg${workgroupSize}`;
  const load = (buffer: string, at: string) => (dtype === "f32" ? `${buffer}[${at}]` : `f32(${buffer}[${at}])`);
  const wgsl = () => {
    const lines: string[] = [];
    if (dtype === "f16") lines.push("enable f16;");
    lines.push(params.struct());
    let binding = 1;
    lines.push(`@group(0) @binding(${binding++}) var<storage, read> x: array<${dtype}>;`);
    lines.push(`@group(0) @binding(${binding++}) var<storage, read> stats: array<f32>;`);
    if (hasWeight) lines.push(`@group(0) @binding(${binding++}) var<storage, read> w: array<${dtype}>;`);
    if (hasBias) lines.push(`@group(0) @binding(${binding++}) var<storage, read> b: array<${dtype}>;`);
    lines.push(`@group(0) @binding(${binding}) var<storage, read_write> y: array<${dtype}>;`);
    lines.push(...runPrologue(workgroupSize));
    lines.push("  let mean = stats[2u * row];");
    lines.push("  let rstd = stats[2u * row + 1u];");
    // one channel at a time: its scale and shift are loaded once per run of `inner` elements
    lines.push("  loop {");
    lines.push("    if (t >= tEnd) { break; }");
    lines.push("    let span = min(p.inner - r, tEnd - t);");
    lines.push(`    let scale = rstd${hasWeight ? ` * ${load("w", "c")}` : ""};`);
    lines.push(`    let shift = ${hasBias ? load("b", "c") : "0.0"};`);
    lines.push(
      ...unrolledSpan((at) => {
        // (x − mean) first: with a large mean, x·scale − mean·scale would cancel catastrophically
        const body = [`var v = (${load("x", at)} - mean) * scale + shift;`];
        if (spec.activation === "silu") body.push("v = v / (1.0 + exp(-v));");
        body.push(`y[${at}] = ${dtype}(v);`);
        return body;
      }),
    );
    lines.push("    t += span;");
    lines.push("    r = 0u;");
    lines.push("    c += 1u;");
    lines.push("  }");
    lines.push("}");
    return lines.join("\n");
  };
  return { key, wgsl, params: params.pack(), workgroups, bindings };
}
