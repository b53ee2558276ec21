import { ShapeError } from "./errors.ts";

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let size = 1;
  for (const dim of shape) size *= dim;
  return size;
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(", ")}]`;
}

/** Row-major (C order) strides, in elements. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    strides[axis] = stride;
    stride *= shape[axis];
  }
  return strides;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}

/** Checks that a shape is a list of non-negative integers, naming the op on failure. */
export function checkShape(op: string, shape: Shape): void {
  for (const dim of shape) {
    if (!Number.isInteger(dim) || dim < 0) {
      throw new ShapeError(op, [shape], `Cannot create a tensor for ${op}: shape ${formatShape(shape)} must hold non-negative integers`);
    }
  }
}

/** Normalises a possibly negative axis against a rank. */
export function normalizeAxis(op: string, axis: number, rank: number): number {
  const normalized = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(axis) || normalized < 0 || normalized >= Math.max(rank, 1)) {
    throw new ShapeError(op, [], `Cannot run ${op}: axis ${axis} is out of range for a tensor of rank ${rank}`);
  }
  return normalized;
}

/** NumPy broadcasting of two shapes. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const dimA = a[a.length - rank + i] ?? 1;
    const dimB = b[b.length - rank + i] ?? 1;
    if (dimA !== dimB && dimA !== 1 && dimB !== 1) {
      throw new ShapeError(
        op,
        [a, b],
        `Cannot broadcast ${formatShape(a)} with ${formatShape(b)} in ${op}: dimension ${i} is ${dimA} and ${dimB}`,
      );
    }
    out[i] = dimA === 1 ? dimB : dimA;
  }
  return out;
}

/**
 * Strides that read an input of `shape` as if it had the (broadcast) `outShape`: broadcast
 * dimensions get stride 0. The result has `outShape.length` entries.
 */
export function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const strides = contiguousStrides(shape);
  const offset = outShape.length - shape.length;
  return outShape.map((_, axis) => {
    const inAxis = axis - offset;
    if (inAxis < 0 || shape[inAxis] === 1) return 0;
    return strides[inAxis];
  });
}

/** Resolves one `-1` in a reshape target against the element count. */
export function inferReshape(op: string, from: Shape, to: readonly number[]): number[] {
  const size = sizeOf(from);
  const unknown = to.indexOf(-1);
  if (unknown !== to.lastIndexOf(-1)) {
    throw new ShapeError(op, [from, to], `Cannot reshape ${formatShape(from)} to ${formatShape(to)}: only one dimension may be -1`);
  }
  const known = to.reduce((product, dim, i) => (i === unknown ? product : product * dim), 1);
  const resolved = [...to];
  if (unknown >= 0) resolved[unknown] = known === 0 ? 0 : size / known;
  if (sizeOf(resolved) !== size || !resolved.every((dim) => Number.isInteger(dim) && dim >= 0)) {
    throw new ShapeError(
      op,
      [from, to],
      `Cannot reshape ${formatShape(from)} to ${formatShape(to)}: they hold ${size} and ${sizeOf(resolved)} elements`,
    );
  }
  return resolved;
}
