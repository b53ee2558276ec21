import { type DType, wgslType } from "../../tensor/dtype.ts";
import { linearGrid, linearMain } from "../../wgsl/grid.ts";
import { Params } from "../../wgsl/params.ts";
import type { BindingRef, KernelPlan } from "../op_def.ts";
import type { ResizeMode } from "./resize_options.ts";
import { CUBIC_A } from "./resize_taps.ts";

const WORKGROUP_SIZE = 256;

/** How many taps a mode reads per axis, and their span relative to ⌊source coordinate⌋. */
const TAP_SPAN: Record<ResizeMode, { count: number; low: number; high: number }> = {
  nearest: { count: 1, low: 0, high: 0 },
  "nearest-exact": { count: 1, low: 0, high: 0 },
  bilinear: { count: 2, low: 0, high: 1 },
  bicubic: { count: 4, low: -1, high: 2 },
};

/** The source coordinate for output index `o` (PyTorch's area_pixel_compute_source_index). */
function sourceCoordinate(alignCorners: boolean, isCubic: boolean): string {
  if (alignCorners) return "scale * f32(o)";
  const real = "scale * (f32(o) + 0.5) - 0.5";
  return isCubic ? real : `max(${real}, 0.0)`;
}

/** WGSL `fn taps(o, inSize, outSize, scale) -> Taps`: the same rules as `axisTaps` in resize_taps.ts. */
function tapsFunction(mode: ResizeMode, alignCorners: boolean): string {
  const head = `struct Taps { index: vec4<u32>, weight: vec4<f32> }
fn taps(o: u32, inSize: u32, outSize: u32, scale: f32) -> Taps {`;
  switch (mode) {
    case "nearest":
      return `${head}
  var i = min(u32(floor(f32(o) * scale)), inSize - 1u);
  if (outSize == inSize) { i = o; }
  if (outSize == 2u * inSize) { i = o >> 1u; }
  return Taps(vec4<u32>(i, 0u, 0u, 0u), vec4<f32>(1.0, 0.0, 0.0, 0.0));
}`;
    case "nearest-exact":
      return `${head}
  let i = min(u32(floor((f32(o) + 0.5) * scale)), inSize - 1u);
  return Taps(vec4<u32>(i, 0u, 0u, 0u), vec4<f32>(1.0, 0.0, 0.0, 0.0));
}`;
    case "bilinear":
      return `${head}
  if (outSize == inSize) { return Taps(vec4<u32>(o, o, 0u, 0u), vec4<f32>(1.0, 0.0, 0.0, 0.0)); }
  let real = ${sourceCoordinate(alignCorners, false)};
  let i0 = min(u32(floor(real)), inSize - 1u);
  let lambda = clamp(real - f32(i0), 0.0, 1.0);
  let i1 = select(i0, i0 + 1u, i0 < inSize - 1u);
  return Taps(vec4<u32>(i0, i1, 0u, 0u), vec4<f32>(1.0 - lambda, lambda, 0.0, 0.0));
}`;
    case "bicubic":
      return `fn cubicNear(x: f32) -> f32 { return ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0; }
fn cubicFar(x: f32) -> f32 { return ((A * x - 5.0 * A) * x + 8.0 * A) * x - 4.0 * A; }
const A = ${CUBIC_A};
${head}
  let real = ${sourceCoordinate(alignCorners, true)};
  let first = floor(real);
  let t = real - first;
  let last = i32(inSize) - 1;
  let f = i32(first);
  let index = vec4<u32>(vec4<i32>(clamp(f - 1, 0, last), clamp(f, 0, last), clamp(f + 1, 0, last), clamp(f + 2, 0, last)));
  let weight = vec4<f32>(cubicFar(t + 1.0), cubicNear(t), cubicNear(1.0 - t), cubicFar((1.0 - t) + 1.0));
  return Taps(index, weight);
}`;
  }
}

function keySuffix(mode: ResizeMode, alignCorners: boolean): string {
  return `${mode.replace("-", "_")}_${alignCorners ? "corners" : "centres"}`;
}

/** Geometry of one NCHW resize. */
export interface ResizeGeometry {
  mode: ResizeMode;
  alignCorners: boolean;
  planes: number;
  inH: number;
  inW: number;
  outH: number;
  outW: number;
  scaleH: number;
  scaleW: number;
}

/**
 * Forward: y = Σⱼ wyⱼ Σᵢ wxᵢ x[iyⱼ, ixᵢ] over the ≤ 4×4 taps, accumulated in f32 whatever the
 * storage dtype. Each invocation computes a run of `runLength` neighbouring outputs of one row
 * (the row's taps and plane are decoded once); the tap loops are unrolled so no vector is
 * indexed dynamically (CPU compilers spill those to memory).
 */
export function resizePlan(dtype: DType, g: ResizeGeometry, runLength = 1): KernelPlan {
  const runsPerRow = Math.ceil(g.outW / runLength);
  const invocations = g.planes * g.outH * runsPerRow;
  const params = new Params()
    .u32("size", invocations)
    .u32("runsPerRow", runsPerRow)
    .u32("inH", g.inH)
    .u32("inW", g.inW)
    .u32("outH", g.outH)
    .u32("outW", g.outW)
    .f32("scaleH", g.scaleH)
    .f32("scaleW", g.scaleW);
  const count = TAP_SPAN[g.mode].count;
  const type = wgslType(dtype);
  const taps = Array.from({ length: count }, (_, j) => j);
  // Σⱼ wyⱼ · (Σᵢ wxᵢ · x[row j, column i]), rows outer like PyTorch
  const rowSum = (j: number) => taps.map((i) => `tx.weight[${i}] * f32(x[row${j} + tx.index[${i}]])`).join(" + ");
  const source = () =>
    [
      dtype === "f16" ? "enable f16;" : "",
      params.struct(),
      `@group(0) @binding(1) var<storage, read> x: array<${type}>;`,
      `@group(0) @binding(2) var<storage, read_write> y: array<${type}>;`,
      tapsFunction(g.mode, g.alignCorners),
      linearMain(WORKGROUP_SIZE),
      "  if (index >= p.size) { return; }",
      // 1. which run of which output row
      "  let outRow = index / p.runsPerRow;",
      `  let first = (index - outRow * p.runsPerRow) * ${runLength}u;`,
      "  let oy = outRow % p.outH;",
      "  let plane = outRow / p.outH;",
      // 2. the row's vertical taps, as offsets of input rows
      "  let ty = taps(oy, p.inH, p.outH, p.scaleH);",
      "  let base = plane * p.inH * p.inW;",
      ...taps.map((j) => `  let row${j} = base + ty.index[${j}] * p.inW;`),
      // 3. each output of the run: horizontal taps, weighted sum, store
      `  let last = min(first + ${runLength}u, p.outW);`,
      "  for (var ox = first; ox < last; ox++) {",
      "    let tx = taps(ox, p.inW, p.outW, p.scaleW);",
      `    let sum = ${taps.map((j) => `ty.weight[${j}] * (${rowSum(j)})`).join(" + ")};`,
      `    y[outRow * p.outW + ox] = ${type}(sum);`,
      "  }",
      "}",
    ].join("\n");
  return {
    key: `resize_${keySuffix(g.mode, g.alignCorners)}_${dtype}_run${runLength}`,
    wgsl: source,
    params: params.pack(),
    workgroups: linearGrid(invocations, WORKGROUP_SIZE),
  };
}

/** One axis of the adjoint: src is [outer, outSize, inner], dst is [outer, inSize, inner]. */
export interface AdjointAxis {
  mode: ResizeMode;
  alignCorners: boolean;
  outer: number;
  inner: number;
  inSize: number;
  outSize: number;
  scale: number;
  srcType: DType;
  dstType: DType;
  source: BindingRef;
  target: BindingRef;
}

/**
 * The adjoint (gradient) of a resize along one axis, in gather form (no atomics): invocation i
 * sums w·src[o] over the outputs o whose taps include i. The o range comes from inverting the
 * source-coordinate map, widened by 2 (and to the border for the first and last 3 indices, where
 * clamped taps gather from far outputs); each candidate's weight is recomputed with `taps`, so
 * a too-wide range only costs time, never correctness.
 */
export function resizeAdjointPlan(a: AdjointAxis): KernelPlan {
  const size = a.outer * a.inSize * a.inner;
  const params = new Params()
    .u32("size", size)
    .u32("inner", a.inner)
    .u32("inSize", a.inSize)
    .u32("outSize", a.outSize)
    .f32("scale", a.scale);
  const span = TAP_SPAN[a.mode];
  // the source coordinate is ≈ scale·o + offset
  const offset = a.alignCorners
    ? "0.0"
    : a.mode === "nearest"
      ? "0.0"
      : a.mode === "nearest-exact"
        ? "0.5 * p.scale"
        : "0.5 * p.scale - 0.5";
  const source = () =>
    [
      a.srcType === "f16" || a.dstType === "f16" ? "enable f16;" : "",
      params.struct(),
      `@group(0) @binding(1) var<storage, read> src: array<${wgslType(a.srcType)}>;`,
      `@group(0) @binding(2) var<storage, read_write> dst: array<${wgslType(a.dstType)}>;`,
      tapsFunction(a.mode, a.alignCorners),
      linearMain(WORKGROUP_SIZE),
      "  if (index >= p.size) { return; }",
      // 1. which input index on the axis, and the rest of the coordinate
      "  let k = index % p.inner;",
      "  let i = (index / p.inner) % p.inSize;",
      "  let outer = index / (p.inner * p.inSize);",
      // 2. the outputs that can read index i
      "  var lo = 0;",
      "  var hi = i32(p.outSize) - 1;",
      "  if (p.scale > 0.0) {",
      `    let offset = ${offset};`,
      `    let first = floor((f32(i) - ${span.high}.0 - offset) / p.scale) - 2.0;`,
      `    let last = ceil((f32(i) - (${span.low}.0) + 1.0 - offset) / p.scale) + 2.0;`,
      "    if (i >= 3u) { lo = i32(clamp(first, 0.0, f32(p.outSize))); }",
      "    if (i + 3u < p.inSize) { hi = i32(clamp(last, -1.0, f32(p.outSize) - 1.0)); }",
      "  }",
      // 3. gather their contributions
      "  var sum = 0.0;",
      "  for (var o = lo; o <= hi; o++) {",
      "    let t = taps(u32(o), p.inSize, p.outSize, p.scale);",
      "    var w = 0.0;",
      ...Array.from({ length: span.count }, (_, j) => `    w += select(0.0, t.weight[${j}], t.index[${j}] == i);`),
      "    if (w != 0.0) { sum += w * f32(src[(outer * p.outSize + u32(o)) * p.inner + k]); }",
      "  }",
      `  dst[index] = ${wgslType(a.dstType)}(sum);`,
      "}",
    ].join("\n");
  return {
    key: `resize_adjoint_${keySuffix(a.mode, a.alignCorners)}_${a.srcType}_${a.dstType}`,
    wgsl: source,
    params: params.pack(),
    workgroups: linearGrid(size, WORKGROUP_SIZE),
    bindings: [a.source, a.target],
  };
}
