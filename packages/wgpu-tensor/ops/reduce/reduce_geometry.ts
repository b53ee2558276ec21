import { ShapeError } from "../../tensor/errors.ts";
import { contiguousStrides, formatShape, type Shape } from "../../tensor/shape.ts";
import type { KernelContext } from "../op_def.ts";

/**
 * How a reduction walks a contiguous input, without permuting it: the kept axes form the output
 * index space and the reduced axes a second, strided index space. Neighbouring axes of the same
 * kind are merged, so reducing the last axes of any tensor is one kept and one reduced dimension.
 */
export interface ReduceGeometry {
  /** Number of outputs (product of the kept axes). */
  outCount: number;
  /** Elements reduced into each output (product of the reduced axes). */
  reduceCount: number;
  /** Merged kept dimensions, outermost first, with their input strides. */
  keptSizes: number[];
  keptStrides: number[];
  /** Merged reduced dimensions, outermost first, with their input strides; never empty. */
  reducedSizes: number[];
  reducedStrides: number[];
}

/** Normalised, sorted, de-duplicated axes; `undefined`/`null` means every axis. */
export function normalizeAxes(op: string, shape: Shape, axes: number | readonly number[] | null | undefined): number[] {
  const rank = shape.length;
  if (axes === undefined || axes === null) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === "number" ? [axes] : axes;
  const seen = new Set<number>();
  for (const axis of list) {
    const normalized = axis < 0 ? axis + rank : axis;
    if (!Number.isInteger(axis) || normalized < 0 || normalized >= rank) {
      throw new ShapeError(
        op,
        [shape],
        `Cannot run ${op} over axis ${axis} of a tensor of shape ${formatShape(shape)}: axes must lie in [${-rank}, ${rank - 1}]`,
      );
    }
    if (seen.has(normalized)) {
      throw new ShapeError(
        op,
        [shape],
        `Cannot run ${op} over axes [${list.join(", ")}] of a tensor of shape ${formatShape(shape)}: axis ${axis} is repeated`,
      );
    }
    seen.add(normalized);
  }
  return [...seen].sort((a, b) => a - b);
}

/** The output shape of reducing `axes` (normalised) of `shape`. */
export function reducedShape(shape: Shape, axes: readonly number[], keepDim: boolean): number[] {
  const reduced = new Set(axes);
  if (keepDim) return shape.map((dim, axis) => (reduced.has(axis) ? 1 : dim));
  return shape.filter((_, axis) => !reduced.has(axis));
}

/** Merges a contiguous `shape` into alternating kept and reduced dimensions. */
export function reduceGeometry(shape: Shape, axes: readonly number[]): ReduceGeometry {
  const reduced = new Set(axes);
  const strides = contiguousStrides(shape);
  const geometry: ReduceGeometry = {
    outCount: 1,
    reduceCount: 1,
    keptSizes: [],
    keptStrides: [],
    reducedSizes: [],
    reducedStrides: [],
  };
  let lastKind: "kept" | "reduced" | null = null;
  for (let axis = 0; axis < shape.length; axis++) {
    const dim = shape[axis];
    const isReduced = reduced.has(axis);
    if (isReduced) geometry.reduceCount *= dim;
    else geometry.outCount *= dim;
    if (dim === 1) continue;
    const kind = isReduced ? "reduced" : "kept";
    const sizes = isReduced ? geometry.reducedSizes : geometry.keptSizes;
    const dimStrides = isReduced ? geometry.reducedStrides : geometry.keptStrides;
    if (kind === lastKind) {
      // contiguous input: the previous dimension of this kind sits right outside this one
      sizes[sizes.length - 1] *= dim;
      dimStrides[dimStrides.length - 1] = strides[axis];
    } else {
      sizes.push(dim);
      dimStrides.push(strides[axis]);
    }
    lastKind = kind;
  }
  if (geometry.reducedSizes.length === 0) {
    geometry.reducedSizes.push(1);
    geometry.reducedStrides.push(1);
  }
  return geometry;
}

/** Geometry of `rows` contiguous rows of `rowLength` elements each (norms, softmax over the last axis). */
export function rowGeometry(rows: number, rowLength: number): ReduceGeometry {
  return reduceGeometry([rows, rowLength], [1]);
}

/** How one reduction is split into partial reductions (a second pass then combines them). */
export interface ReduceSplit {
  /** Partials per output; 1 means a single pass. */
  splits: number;
  /** Elements of the reduction each partial covers (the last one may cover fewer). */
  chunk: number;
}

/**
 * Splits long reductions with few outputs so that every core gets work. On CPU adapters each
 * invocation loops serially over its range, so a sum of one million elements in one invocation
 * would use one SIMD lane of one core; ~1024 invocations (32 workgroups of 32) keep the lanes and
 * up to 32 cores busy. GPUs want many more invocations. Chunks stay long enough that the second pass is cheap.
 */
export function chooseSplit(outCount: number, reduceCount: number, context: KernelContext): ReduceSplit {
  const targetInvocations = context.isCpuAdapter ? 1024 : 16384;
  const minChunk = context.isCpuAdapter ? 2048 : 256;
  let splits = 1;
  if (outCount < targetInvocations) {
    const wanted = Math.ceil(targetInvocations / outCount);
    splits = Math.max(1, Math.min(wanted, Math.floor(reduceCount / minChunk)));
  }
  return splitInto(reduceCount, splits);
}

/** At most `splits` chunks of equal length (the last may be shorter), none empty. */
export function splitInto(reduceCount: number, splits: number): ReduceSplit {
  const chunk = Math.max(1, Math.ceil(reduceCount / Math.max(1, splits)));
  return { splits: Math.max(1, Math.ceil(reduceCount / chunk)), chunk };
}

/** Which axes `sumToShape` reduces so that `shape` (broadcastable to `from`) results. */
export function broadcastAxes(op: string, from: Shape, shape: Shape): number[] {
  const offset = from.length - shape.length;
  const fits = offset >= 0 && shape.every((dim, i) => dim === from[offset + i] || dim === 1);
  if (!fits) {
    throw new ShapeError(
      op,
      [from, shape],
      `Cannot run ${op} from ${formatShape(from)} to ${formatShape(shape)}: the target must broadcast to the source (same trailing dimensions or 1)`,
    );
  }
  const axes: number[] = [];
  for (let axis = 0; axis < from.length; axis++) {
    const target = axis < offset ? null : shape[axis - offset];
    if (target === null || (target === 1 && from[axis] !== 1)) axes.push(axis);
  }
  return axes;
}
