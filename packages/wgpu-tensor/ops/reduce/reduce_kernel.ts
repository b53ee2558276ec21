import type { DType } from "../../tensor/dtype.ts";
import { linearGrid, linearMain } from "../../wgsl/grid.ts";
import { Params } from "../../wgsl/params.ts";
import type { BindingRef, KernelContext, KernelPlan } from "../op_def.ts";
import { chooseSplit, type ReduceGeometry, splitInto } from "./reduce_geometry.ts";
import { walkRange } from "./reduce_walk.ts";

/**
 * What a reduction computes per output. `normStats` is the statistics pass of the norm ops: two
 * f32 per output, the mean and 1/√(variance + eps) with the biased variance.
 */
export type ReduceOp = "sum" | "mean" | "max" | "min" | "argmax" | "argmin" | "variance" | "normStats";

/** How partial results are accumulated (and so which scratch buffers the split needs). */
type Accumulation = "sum" | "extreme" | "arg" | "moments";

const ACCUMULATION: Record<ReduceOp, Accumulation> = {
  sum: "sum",
  mean: "sum",
  max: "extreme",
  min: "extreme",
  argmax: "arg",
  argmin: "arg",
  variance: "moments",
  normStats: "moments",
};

export interface ReduceKernelSpec {
  op: ReduceOp;
  inDType: DType;
  outDType: DType;
  geometry: ReduceGeometry;
  /** variance: subtracted from the count in the divisor (Bessel's correction is 1). */
  correction?: number;
  /** normStats: added to the variance before the inverse square root. */
  eps?: number;
  /** Where the input is bound (default: the op's first input). */
  input?: BindingRef;
  /** Where the result goes (default: the op's output). */
  result?: BindingRef;
  /** Index of the first scratch buffer this reduction may use (default 0). */
  firstTemp?: number;
  /** Partials per output, instead of the adapter-based choice (tests and benchmarks). */
  splits?: number;
}

/** Dispatches and the scratch buffers (bytes) they need, for composing into a KernelProgram. */
export interface ReducePasses {
  temps: number[];
  passes: KernelPlan[];
}

/**
 * The passes of a reduction: one pass with one invocation per output looping serially over its
 * reduction range (blocked summation in f32), or, when there are few outputs and long reductions,
 * a partial pass over chunks writing to scratch buffers and a pass combining the partials (moments
 * combine with Chan's formula). No atomics, no workgroup memory.
 */
export function reducePasses(spec: ReduceKernelSpec, context: KernelContext): ReducePasses {
  const { outCount, reduceCount } = spec.geometry;
  const split = spec.splits === undefined ? chooseSplit(outCount, reduceCount, context) : splitInto(reduceCount, spec.splits);
  const workgroupSize = context.isCpuAdapter ? 32 : 64;
  const input = spec.input ?? { input: 0 };
  const result = spec.result ?? "output";
  const common = { ...spec, splits: split.splits, chunk: split.chunk, workgroupSize };
  if (split.splits === 1) {
    return { temps: [], passes: [partialPass(common, "final", [input, result])] };
  }
  const first = spec.firstTemp ?? 0;
  const tempCount = tempCountFor(spec.op);
  const tempRefs = Array.from({ length: tempCount }, (_, j) => ({ temp: first + j }));
  const tempBytes = Array.from({ length: tempCount }, () => outCount * split.splits * 4);
  return {
    temps: tempBytes,
    passes: [partialPass(common, "partial", [input, ...tempRefs]), combinePass(common, [...tempRefs, result])],
  };
}

function tempCountFor(op: ReduceOp): number {
  const accumulation = ACCUMULATION[op];
  return accumulation === "arg" || accumulation === "moments" ? 2 : 1;
}

interface PassSpec extends ReduceKernelSpec {
  splits: number;
  chunk: number;
  workgroupSize: number;
}

/** WGSL type the values are accumulated in: i32 stays i32 (exact), floats become f32. */
function computeType(dtype: DType): "f32" | "i32" {
  return dtype === "i32" ? "i32" : "f32";
}

function baseParams(spec: PassSpec): Params {
  const params = new Params()
    .u32("outCount", spec.geometry.outCount)
    .u32("reduceCount", spec.geometry.reduceCount)
    .u32("splits", spec.splits)
    .u32("chunk", spec.chunk);
  const compute = computeType(spec.inDType);
  const count = spec.geometry.reduceCount;
  if (spec.op === "mean" || spec.op === "normStats") params.f32("scale", count > 0 ? 1 / count : NaN);
  if (spec.op === "variance") {
    const divisor = count - (spec.correction ?? 1);
    params.f32("scale", divisor > 0 ? 1 / divisor : NaN);
  }
  if (spec.op === "normStats") params.f32("eps", spec.eps ?? 1e-5);
  // the identity of max/min (±inf or the i32 extremes) travels as a value: WGSL has no inf literal
  const isMax = spec.op === "max" || spec.op === "argmax";
  const isMin = spec.op === "min" || spec.op === "argmin";
  if (isMax || isMin) {
    if (compute === "i32") params.i32("init", isMax ? -2147483648 : 2147483647);
    else params.f32("init", isMax ? -Infinity : Infinity);
  }
  return params;
}

function header(spec: PassSpec, params: Params): string[] {
  const lines: string[] = [];
  if (spec.inDType === "f16" || spec.outDType === "f16") lines.push("enable f16;");
  lines.push(params.struct());
  if (ACCUMULATION[spec.op] === "moments") {
    lines.push("fn squaredDiff(v: f32, m: f32) -> f32 {\n  let d = v - m;\n  return d * d;\n}");
  }
  return lines;
}

/** Declarations of the result buffers: the output, or the partial scratch buffers. */
function resultDeclarations(spec: PassSpec, mode: "final" | "partial", firstBinding: number): string[] {
  if (mode === "final") {
    return [`@group(0) @binding(${firstBinding}) var<storage, read_write> y: array<${outStorage(spec)}>;`];
  }
  return partialTypes(spec).map((type, j) => `@group(0) @binding(${firstBinding + j}) var<storage, read_write> t${j}: array<${type}>;`);
}

function outStorage(spec: PassSpec): string {
  return spec.op === "normStats" ? "f32" : spec.outDType;
}

function partialTypes(spec: PassSpec): string[] {
  const compute = computeType(spec.inDType);
  switch (ACCUMULATION[spec.op]) {
    case "sum":
    case "extreme":
      return [compute];
    case "arg":
      return [compute, "u32"];
    case "moments":
      return ["f32", "f32"];
  }
}

/** Pass over the input: each invocation reduces one chunk of one output's reduction range. */
function partialPass(spec: PassSpec, mode: "final" | "partial", bindings: BindingRef[]): KernelPlan {
  const { geometry } = spec;
  const params = baseParams(spec);
  geometry.keptSizes.forEach((size, i) => params.u32(`ko${i}`, size).u32(`ks${i}`, geometry.keptStrides[i]));
  geometry.reducedSizes.forEach((size, i) => params.u32(`rn${i}`, size).u32(`rs${i}`, geometry.reducedStrides[i]));
  const keptRank = geometry.keptSizes.length;
  const reducedRank = geometry.reducedSizes.length;
  const key = `reduce_${spec.op}_${spec.inDType}_k${keptRank}_r${reducedRank}_${mode}_wg${spec.workgroupSize}`;
  const wgsl = () => {
    const lines = header(spec, params);
    lines.push(`@group(0) @binding(1) var<storage, read> x: array<${spec.inDType}>;`);
    lines.push(...resultDeclarations(spec, mode, 2));
    lines.push(linearMain(spec.workgroupSize));
    lines.push("  if (index >= p.outCount * p.splits) { return; }");
    lines.push("  let o = index % p.outCount;");
    lines.push("  let s = index / p.outCount;");
    // 1. where this output's reduction starts in the input (kept coordinates, innermost first)
    lines.push("  var base = 0u;");
    lines.push("  var rest = o;");
    for (let i = keptRank - 1; i >= 0; i--) {
      lines.push(`  base += (rest % p.ko${i}) * p.ks${i};`);
      lines.push(`  rest = rest / p.ko${i};`);
    }
    // 2. this invocation's chunk of the flat reduction index
    lines.push("  let start = s * p.chunk;");
    lines.push("  let end = min(p.reduceCount, start + p.chunk);");
    // 3. accumulate
    lines.push(...accumulateLines(spec, reducedRank));
    // 4. store the result or the partial
    lines.push(...(mode === "final" ? finishLines(spec) : storePartialLines(spec)));
    lines.push("}");
    return lines.join("\n");
  };
  return {
    key,
    wgsl,
    params: params.pack(),
    workgroups: linearGrid(geometry.outCount * spec.splits, spec.workgroupSize),
    bindings,
  };
}

function loadValue(spec: PassSpec): (offset: string) => string {
  const compute = computeType(spec.inDType);
  return spec.inDType === compute ? (offset) => `x[${offset}]` : (offset) => `${compute}(x[${offset}])`;
}

/** Accumulation over [start, end): leaves `total` / `acc` / `best, bestIndex` / `mean, m2`. */
function accumulateLines(spec: PassSpec, reducedRank: number): string[] {
  const compute = computeType(spec.inDType);
  const load = loadValue(spec);
  const lines: string[] = [];
  switch (ACCUMULATION[spec.op]) {
    case "sum":
      lines.push(`  var total = ${compute}(0);`);
      lines.push(...walkRange(reducedRank, { blocked: { total: "total", type: compute, add: (q) => load(q) } }));
      break;
    case "extreme": {
      const pick = spec.op === "max" ? "max" : "min";
      lines.push(`  var acc = p.init;`);
      const combine = (a: string, b: string) => `${pick}(${a}, ${b})`;
      lines.push(...walkRange(reducedRank, { fold: { acc: "acc", combine, value: load } }));
      break;
    }
    case "arg": {
      const better = spec.op === "argmax" ? ">" : "<";
      lines.push("  var best = p.init;");
      lines.push("  var bestIndex = start;");
      // strict comparison keeps the first index among ties
      lines.push(
        ...walkRange(reducedRank, {
          each: (q, flat) => [`let v = ${load(q)};`, `if (v ${better} best) {`, "  best = v;", `  bestIndex = ${flat};`, "}"],
        }),
      );
      break;
    }
    case "moments":
      // two passes over the chunk: the mean, then Σ(x − mean)², never E[x²] − E[x]²
      lines.push("  var total = 0.0;");
      lines.push(...walkRange(reducedRank, { blocked: { total: "total", type: "f32", add: (q) => load(q) } }));
      lines.push("  let mean = total / f32(end - start);");
      lines.push("  var m2 = 0.0;");
      lines.push(
        ...walkRange(reducedRank, {
          blocked: { total: "m2", type: "f32", add: (q) => `squaredDiff(${load(q)}, mean)` },
        }),
      );
      break;
  }
  return lines;
}

function storePartialLines(spec: PassSpec): string[] {
  switch (ACCUMULATION[spec.op]) {
    case "sum":
      return ["  t0[index] = total;"];
    case "extreme":
      return ["  t0[index] = acc;"];
    case "arg":
      return ["  t0[index] = best;", "  t1[index] = bestIndex;"];
    case "moments":
      return ["  t0[index] = mean;", "  t1[index] = m2;"];
  }
}

/** Writes output `o` from the accumulated values. */
function finishLines(spec: PassSpec): string[] {
  const out = outStorage(spec);
  switch (spec.op) {
    case "sum":
      return [`  y[o] = ${out}(total);`];
    case "mean":
      return [`  y[o] = ${out}(total * p.scale);`];
    case "max":
    case "min":
      return [`  y[o] = ${out}(acc);`];
    case "argmax":
    case "argmin":
      return ["  y[o] = i32(bestIndex);"];
    case "variance":
      return [`  y[o] = ${out}(m2 * p.scale);`];
    case "normStats":
      return ["  y[2u * o] = mean;", "  y[2u * o + 1u] = inverseSqrt(m2 * p.scale + p.eps);"];
  }
}

/** Pass over the partials: one invocation per output combines its `splits` partials in order. */
function combinePass(spec: PassSpec, bindings: BindingRef[]): KernelPlan {
  const params = baseParams(spec);
  const key = `reduce_combine_${spec.op}_${spec.inDType}_wg${spec.workgroupSize}`;
  const types = partialTypes(spec);
  const wgsl = () => {
    const lines = header(spec, params);
    types.forEach((type, j) => lines.push(`@group(0) @binding(${j + 1}) var<storage, read> t${j}: array<${type}>;`));
    lines.push(`@group(0) @binding(${types.length + 1}) var<storage, read_write> y: array<${outStorage(spec)}>;`);
    lines.push(linearMain(spec.workgroupSize));
    lines.push("  if (index >= p.outCount) { return; }");
    lines.push("  let o = index;");
    lines.push(...combineLines(spec));
    lines.push(...finishLines(spec));
    lines.push("}");
    return lines.join("\n");
  };
  return { key, wgsl, params: params.pack(), workgroups: linearGrid(spec.geometry.outCount, spec.workgroupSize), bindings };
}

function combineLines(spec: PassSpec): string[] {
  const compute = computeType(spec.inDType);
  const at = "s * p.outCount + o";
  switch (ACCUMULATION[spec.op]) {
    case "sum":
      return [`  var total = ${compute}(0);`, "  for (var s = 0u; s < p.splits; s++) {", `    total += t0[${at}];`, "  }"];
    case "extreme": {
      const pick = spec.op === "max" ? "max" : "min";
      return ["  var acc = t0[o];", "  for (var s = 1u; s < p.splits; s++) {", `    acc = ${pick}(acc, t0[${at}]);`, "  }"];
    }
    case "arg": {
      const better = spec.op === "argmax" ? ">" : "<";
      // partials are in index order, so a strict comparison still keeps the first of equal values
      return [
        "  var best = t0[o];",
        "  var bestIndex = t1[o];",
        "  for (var s = 1u; s < p.splits; s++) {",
        `    let v = t0[${at}];`,
        `    if (v ${better} best) {`,
        "      best = v;",
        `      bestIndex = t1[${at}];`,
        "    }",
        "  }",
      ];
    }
    case "moments":
      // Chan et al.'s pairwise update: stable when the partial means are large and close
      return [
        "  var count = 0.0;",
        "  var mean = 0.0;",
        "  var m2 = 0.0;",
        "  for (var s = 0u; s < p.splits; s++) {",
        "    let countB = f32(min(p.chunk, p.reduceCount - s * p.chunk));",
        "    let merged = count + countB;",
        `    let delta = t0[${at}] - mean;`,
        "    mean += delta * (countB / merged);",
        `    m2 += t1[${at}] + delta * delta * (count * countB / merged);`,
        "    count = merged;",
        "  }",
      ];
  }
}
