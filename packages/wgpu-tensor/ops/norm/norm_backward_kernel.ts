import type { DType } from "../../tensor/dtype.ts";
import { linearGrid, linearMain } from "../../wgsl/grid.ts";
import { Params } from "../../wgsl/params.ts";
import type { BindingRef, KernelContext, KernelPlan, KernelProgram } from "../op_def.ts";
import { chooseSplit } from "../reduce/reduce_geometry.ts";
import { SUM_BLOCK } from "../reduce/reduce_walk.ts";
import { normWorkgroupSize, runHeader, runPrologue, unrolledLoop, unrolledSpan } from "./norm_kernel.ts";
import { type NormLayout, outerCount } from "./norm_layout.ts";

// Inputs of both backward programs: x (0), dy (1), stats (2, [rows, 2] f32: mean and rstd),
// and for the input gradient an optional weight (3).

function loader(dtype: DType): (buffer: string, at: string) => string {
  return (buffer, at) => (dtype === "f32" ? `${buffer}[${at}]` : `f32(${buffer}[${at}])`);
}

/** A storage buffer a pass declares, in binding order. */
interface BufferDecl {
  name: string;
  type: string;
  isOutput?: boolean;
}

function declarations(dtype: DType, params: Params, buffers: readonly BufferDecl[]): string[] {
  const lines: string[] = [];
  if (dtype === "f16") lines.push("enable f16;");
  lines.push(params.struct());
  buffers.forEach((buffer, i) => {
    const access = buffer.isOutput ? "read_write" : "read";
    lines.push(`@group(0) @binding(${i + 1}) var<storage, ${access}> ${buffer.name}: array<${buffer.type}>;`);
  });
  return lines;
}

/**
 * dx of a normalisation: per row, Σg and Σg·x̂ (g = dy·w[c], x̂ = (x − mean)·rstd) as partial sums
 * over chunks of the row, then their means, then dx = rstd·(g − mean(g) − x̂·mean(g·x̂)).
 */
export function inputGradProgram(layout: NormLayout, dtype: DType, hasWeight: boolean, context: KernelContext): KernelProgram {
  const split = chooseSplit(layout.rows, layout.rowLength, context);
  const partialBytes = layout.rows * split.splits * 4;
  return {
    temps: [partialBytes, partialBytes, layout.rows * 2 * 4],
    passes: [
      rowSumsPass(layout, dtype, hasWeight, split, context),
      combineRowSumsPass(layout, split.splits, context),
      inputGradPass(layout, dtype, hasWeight, context),
    ],
  };
}

function rowSumsPass(
  layout: NormLayout,
  dtype: DType,
  hasWeight: boolean,
  split: { splits: number; chunk: number },
  context: KernelContext,
): KernelPlan {
  const workgroupSize = normWorkgroupSize(context);
  const params = new Params()
    .u32("rows", layout.rows)
    .u32("rowLength", layout.rowLength)
    .u32("inner", layout.inner)
    .u32("channels", layout.channels)
    .u32("splits", split.splits)
    .u32("chunk", split.chunk);
  const load = loader(dtype);
  const bindings: BindingRef[] = [{ input: 0 }, { input: 1 }, { input: 2 }];
  if (hasWeight) bindings.push({ input: 3 });
  bindings.push({ temp: 0 }, { temp: 1 });
  const wgsl = () => {
    const buffers: BufferDecl[] = [
      { name: "x", type: dtype },
      { name: "dy", type: dtype },
      { name: "stats", type: "f32" },
    ];
    if (hasWeight) buffers.push({ name: "w", type: dtype });
    buffers.push({ name: "partialG", type: "f32", isOutput: true }, { name: "partialGX", type: "f32", isOutput: true });
    const lines = declarations(dtype, params, buffers);
    lines.push(linearMain(workgroupSize));
    lines.push("  if (index >= p.rows * p.splits) { return; }");
    lines.push("  let row = index % p.rows;");
    lines.push("  var t = (index / p.rows) * p.chunk;");
    lines.push("  let tEnd = min(p.rowLength, t + p.chunk);");
    lines.push("  var idx = row * p.rowLength + t;");
    lines.push("  var c = (idx / p.inner) % p.channels;");
    lines.push("  var r = idx % p.inner;");
    lines.push("  let mean = stats[2u * row];");
    lines.push("  var sumG = 0.0;");
    lines.push("  var sumGX = 0.0;");
    // runs of one channel, summed in blocks of SUM_BLOCK
    lines.push("  loop {");
    lines.push("    if (t >= tEnd) { break; }");
    lines.push("    let span = min(p.inner - r, tEnd - t);");
    lines.push(`    let wc = ${hasWeight ? load("w", "c") : "1.0"};`);
    lines.push("    var k = 0u;");
    lines.push("    loop {");
    lines.push("      if (k >= span) { break; }");
    lines.push(`      let piece = min(span - k, ${SUM_BLOCK}u);`);
    lines.push("      var partG = 0.0;");
    lines.push("      var partGX = 0.0;");
    lines.push(
      ...unrolledLoop("piece", "idx", "u", "      ", (at) => [
        `let g = ${load("dy", at)} * wc;`,
        "partG += g;",
        `partGX += g * (${load("x", at)} - mean);`,
      ]),
    );
    lines.push("      sumG += partG;");
    lines.push("      sumGX += partGX;");
    lines.push("      k += piece;");
    lines.push("    }");
    lines.push("    t += span;");
    lines.push("    r = 0u;");
    lines.push("    c += 1u;");
    lines.push("  }");
    lines.push("  partialG[index] = sumG;");
    lines.push("  partialGX[index] = sumGX * stats[2u * row + 1u];");
    lines.push("}");
    return lines.join("\n");
  };
  const key = `normInputGrad_rowsums_${dtype}_${hasWeight ? "w" : "plain"}_wg${workgroupSize}`;
  return { key, wgsl, params: params.pack(), workgroups: linearGrid(layout.rows * split.splits, workgroupSize), bindings };
}

function combineRowSumsPass(layout: NormLayout, splits: number, context: KernelContext): KernelPlan {
  const workgroupSize = normWorkgroupSize(context);
  const params = new Params()
    .u32("rows", layout.rows)
    .u32("splits", splits)
    .f32("invLength", 1 / layout.rowLength);
  const wgsl = () => {
    const lines = declarations("f32", params, [
      { name: "partialG", type: "f32" },
      { name: "partialGX", type: "f32" },
      { name: "sums", type: "f32", isOutput: true },
    ]);
    lines.push(linearMain(workgroupSize));
    lines.push("  if (index >= p.rows) { return; }");
    lines.push("  var sumG = 0.0;");
    lines.push("  var sumGX = 0.0;");
    lines.push("  for (var s = 0u; s < p.splits; s++) {");
    lines.push("    sumG += partialG[s * p.rows + index];");
    lines.push("    sumGX += partialGX[s * p.rows + index];");
    lines.push("  }");
    lines.push("  sums[2u * index] = sumG * p.invLength;");
    lines.push("  sums[2u * index + 1u] = sumGX * p.invLength;");
    lines.push("}");
    return lines.join("\n");
  };
  return {
    key: `normInputGrad_combine_wg${workgroupSize}`,
    wgsl,
    params: params.pack(),
    workgroups: linearGrid(layout.rows, workgroupSize),
    bindings: [{ temp: 0 }, { temp: 1 }, { temp: 2 }],
  };
}

function inputGradPass(layout: NormLayout, dtype: DType, hasWeight: boolean, context: KernelContext): KernelPlan {
  const { params, workgroups, workgroupSize } = runHeader(layout, context);
  const load = loader(dtype);
  const bindings: BindingRef[] = [{ input: 0 }, { input: 1 }, { input: 2 }];
  if (hasWeight) bindings.push({ input: 3 });
  bindings.push({ temp: 2 }, "output");
  const wgsl = () => {
    const buffers: BufferDecl[] = [
      { name: "x", type: dtype },
      { name: "dy", type: dtype },
      { name: "stats", type: "f32" },
    ];
    if (hasWeight) buffers.push({ name: "w", type: dtype });
    buffers.push({ name: "sums", type: "f32" }, { name: "dx", type: dtype, isOutput: true });
    const lines = declarations(dtype, params, buffers);
    lines.push(...runPrologue(workgroupSize));
    lines.push("  let mean = stats[2u * row];");
    lines.push("  let rstd = stats[2u * row + 1u];");
    lines.push("  let meanG = sums[2u * row];");
    lines.push("  let meanGX = sums[2u * row + 1u];");
    lines.push("  loop {");
    lines.push("    if (t >= tEnd) { break; }");
    lines.push("    let span = min(p.inner - r, tEnd - t);");
    lines.push(`    let wc = ${hasWeight ? load("w", "c") : "1.0"};`);
    lines.push(
      ...unrolledSpan((at) => [
        `let xhat = (${load("x", at)} - mean) * rstd;`,
        `let g = ${load("dy", at)} * wc;`,
        `dx[${at}] = ${dtype}(rstd * (g - meanG - xhat * meanGX));`,
      ]),
    );
    lines.push("    t += span;");
    lines.push("    r = 0u;");
    lines.push("    c += 1u;");
    lines.push("  }");
    lines.push("}");
    return lines.join("\n");
  };
  const key = `normInputGrad_dx_${dtype}_${hasWeight ? "w" : "plain"}_wg${workgroupSize}`;
  return { key, wgsl, params: params.pack(), workgroups, bindings };
}

/**
 * dweight[c] = Σ dy·x̂ over every element of channel c: the input seen as [outer, channels,
 * inner], one invocation per channel (and per chunk of `outer` when channels are few).
 */
export function weightGradProgram(layout: NormLayout, dtype: DType, context: KernelContext): KernelProgram {
  const outer = outerCount(layout);
  const wanted = chooseSplit(layout.channels, outer * layout.inner, context).splits;
  const outerChunk = Math.max(1, Math.ceil(outer / Math.max(1, Math.min(wanted, outer))));
  const splits = Math.max(1, Math.ceil(outer / outerChunk));
  const workgroupSize = normWorkgroupSize(context);
  const params = new Params()
    .u32("channels", layout.channels)
    .u32("inner", layout.inner)
    .u32("rowLength", layout.rowLength)
    .u32("outer", outer)
    .u32("outerChunk", outerChunk)
    .u32("splits", splits);
  const isFinal = splits === 1;
  const result: BindingRef = isFinal ? "output" : { temp: 0 };
  const partial: KernelPlan = {
    key: `normWeightGrad_${dtype}_${isFinal ? "final" : "partial"}_wg${workgroupSize}`,
    wgsl: () => weightGradSource(dtype, params, workgroupSize, isFinal),
    params: params.pack(),
    workgroups: linearGrid(layout.channels * splits, workgroupSize),
    bindings: [{ input: 0 }, { input: 1 }, { input: 2 }, result],
  };
  if (isFinal) return { passes: [partial] };
  const combine: KernelPlan = {
    key: `normWeightGrad_combine_${dtype}_wg${workgroupSize}`,
    wgsl: () => {
      const lines = declarations(dtype, params, [
        { name: "partial", type: "f32" },
        { name: "y", type: dtype, isOutput: true },
      ]);
      lines.push(linearMain(workgroupSize));
      lines.push("  if (index >= p.channels) { return; }");
      lines.push("  var total = 0.0;");
      lines.push("  for (var s = 0u; s < p.splits; s++) {");
      lines.push("    total += partial[s * p.channels + index];");
      lines.push("  }");
      lines.push(`  y[index] = ${dtype}(total);`);
      lines.push("}");
      return lines.join("\n");
    },
    params: params.pack(),
    workgroups: linearGrid(layout.channels, workgroupSize),
    bindings: [{ temp: 0 }, "output"],
  };
  return { temps: [layout.channels * splits * 4], passes: [partial, combine] };
}

function weightGradSource(dtype: DType, params: Params, workgroupSize: number, isFinal: boolean): string {
  const load = loader(dtype);
  const result: BufferDecl = isFinal ? { name: "y", type: dtype, isOutput: true } : { name: "partial", type: "f32", isOutput: true };
  const lines = declarations(dtype, params, [
    { name: "x", type: dtype },
    { name: "dy", type: dtype },
    { name: "stats", type: "f32" },
    result,
  ]);
  lines.push(linearMain(workgroupSize));
  lines.push("  if (index >= p.channels * p.splits) { return; }");
  lines.push("  let c = index % p.channels;");
  lines.push("  let nStart = (index / p.channels) * p.outerChunk;");
  lines.push("  let nEnd = min(p.outer, nStart + p.outerChunk);");
  lines.push("  var total = 0.0;");
  lines.push("  for (var n = nStart; n < nEnd; n++) {");
  // a row holds whole channels: one row (mean, rstd) per run of `inner` elements
  lines.push("    var q = (n * p.channels + c) * p.inner;");
  lines.push("    let row = q / p.rowLength;");
  lines.push("    let mean = stats[2u * row];");
  lines.push("    var run = 0.0;");
  lines.push("    var k = 0u;");
  lines.push("    loop {");
  lines.push("      if (k >= p.inner) { break; }");
  lines.push(`      let piece = min(p.inner - k, ${SUM_BLOCK}u);`);
  lines.push("      var part = 0.0;");
  lines.push(...unrolledLoop("piece", "q", "u", "      ", (at) => [`part += ${load("dy", at)} * (${load("x", at)} - mean);`]));
  lines.push("      run += part;");
  lines.push("      k += piece;");
  lines.push("    }");
  lines.push("    total += run * stats[2u * row + 1u];");
  lines.push("  }");
  lines.push(isFinal ? `  y[index] = ${dtype}(total);` : "  partial[index] = total;");
  lines.push("}");
  return lines.join("\n");
}
