import { type DType, wgslType } from "../../tensor/dtype.ts";
import { type Shape, sizeOf } from "../../tensor/shape.ts";
import { linearGrid, linearMain } from "../../wgsl/grid.ts";
import { Params } from "../../wgsl/params.ts";
import { collapseDims } from "../elementwise/elementwise_layout.ts";
import type { BindingRef, KernelContext, KernelPlan } from "../op_def.ts";

const WORKGROUP_SIZE = 256;

/**
 * Elements one invocation copies along the innermost dimension. On CPU adapters every lane does
 * scalar loads anyway, and a run of 8 divides the index arithmetic (one u32 div/mod per dimension)
 * by 8: permute and concat ran 3–5× faster on lavapipe. GPUs want one element per invocation so
 * neighbouring lanes touch neighbouring addresses.
 */
export function copyRunLength(context: Pick<KernelContext, "isCpuAdapter">): number {
  return context.isCpuAdapter ? 8 : 1;
}

/** One strided copy: walk `shape`, read `x[inOffset + Σ iₐ·inStridesₐ]`, write `y[outOffset + Σ iₐ·outStridesₐ]`. */
export interface StridedCopySpec {
  dtype: DType;
  /** The iteration shape. */
  shape: Shape;
  inStrides: readonly number[];
  inOffset?: number;
  outStrides: readonly number[];
  outOffset?: number;
  /** Which buffers to bind as source and target; default the first input and the output. */
  source?: BindingRef;
  target?: BindingRef;
  /** Elements per invocation along the innermost dimension (`copyRunLength`). Default 1. */
  runLength?: number;
}

/**
 * The one copy kernel behind permute, slice, concat and reshape: any strided read into any
 * strided write. Dimensions that both sides walk contiguously are merged first (a slice of whole
 * rows is a 1-D copy), then each invocation copies a run of `runLength` elements of one innermost
 * row: its coordinate in the outer dimensions is decoded once per run.
 */
export function stridedCopyPlan(spec: StridedCopySpec): KernelPlan {
  const collapsed = collapseDims(spec.shape, [[...spec.inStrides], [...spec.outStrides]]);
  // a 0-d (or all-ones) iteration shape is one element
  const shape = collapsed.shape.length > 0 ? collapsed.shape : [1];
  const [inStrides, outStrides] = collapsed.shape.length > 0 ? collapsed.strides : [[1], [1]];
  const rank = shape.length;
  const run = spec.runLength ?? 1;
  const inner = shape[rank - 1];
  const runsPerRow = Math.ceil(inner / run);
  const invocations = sizeOf(spec.shape) === 0 ? 0 : (sizeOf(shape) / inner) * runsPerRow;

  const params = new Params()
    .u32("size", invocations)
    .u32("runsPerRow", runsPerRow)
    .u32("inOffset", spec.inOffset ?? 0)
    .u32("outOffset", spec.outOffset ?? 0);
  shape.forEach((dim, axis) => params.u32(`d${axis}`, dim));
  inStrides.forEach((s, axis) => params.u32(`si${axis}`, s));
  outStrides.forEach((s, axis) => params.u32(`so${axis}`, s));

  return {
    key: `strided_copy_${spec.dtype}_r${rank}_run${run}`,
    wgsl: () => stridedCopySource(spec.dtype, params, rank, run),
    params: params.pack(),
    workgroups: linearGrid(invocations, WORKGROUP_SIZE),
    bindings: [spec.source ?? { input: 0 }, spec.target ?? "output"],
  };
}

function stridedCopySource(dtype: DType, params: Params, rank: number, run: number): string {
  const type = wgslType(dtype);
  const last = rank - 1;
  const lines: string[] = [];
  if (dtype === "f16") lines.push("enable f16;");
  lines.push(params.struct());
  lines.push(`@group(0) @binding(1) var<storage, read> x: array<${type}>;`);
  lines.push(`@group(0) @binding(2) var<storage, read_write> y: array<${type}>;`);
  lines.push(linearMain(WORKGROUP_SIZE));
  lines.push("  if (index >= p.size) { return; }");
  // 1. which run of which innermost row
  lines.push("  var rest = index / p.runsPerRow;");
  lines.push(`  let first = (index % p.runsPerRow) * ${run}u;`);
  lines.push(`  var src = p.inOffset + first * p.si${last};`);
  lines.push(`  var dst = p.outOffset + first * p.so${last};`);
  // 2. the row's offsets from its outer coordinate, innermost first
  for (let axis = last - 1; axis >= 0; axis--) {
    lines.push(`  let i${axis} = rest % p.d${axis};`);
    lines.push(`  rest = rest / p.d${axis};`);
    lines.push(`  src += i${axis} * p.si${axis};`);
    lines.push(`  dst += i${axis} * p.so${axis};`);
  }
  // 3. copy the run
  if (run === 1) {
    lines.push("  y[dst] = x[src];");
  } else {
    lines.push(`  let count = min(${run}u, p.d${last} - first);`);
    lines.push("  for (var k = 0u; k < count; k++) {");
    lines.push(`    y[dst + k * p.so${last}] = x[src + k * p.si${last}];`);
    lines.push("  }");
  }
  lines.push("}");
  return lines.join("\n");
}
