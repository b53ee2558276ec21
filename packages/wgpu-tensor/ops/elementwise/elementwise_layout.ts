import { broadcastStrides, contiguousStrides, type Shape } from "../../tensor/shape.ts";

/**
 * Merges neighbouring output dimensions that every operand walks contiguously (or broadcasts
 * along together), so most calls index in one or two dimensions whatever their rank.
 */
export function collapseDims(outShape: Shape, strides: readonly number[][]): { shape: number[]; strides: number[][] } {
  const shape: number[] = [];
  const merged: number[][] = strides.map(() => []);
  for (let axis = 0; axis < outShape.length; axis++) {
    const dim = outShape[axis];
    if (dim === 1) continue;
    const last = shape.length - 1;
    const canMerge = last >= 0 && strides.every((s, j) => merged[j][last] === s[axis] * dim);
    if (canMerge) {
      shape[last] *= dim;
      strides.forEach((s, j) => (merged[j][last] = s[axis]));
    } else {
      shape.push(dim);
      strides.forEach((s, j) => merged[j].push(s[axis]));
    }
  }
  return { shape, strides: merged };
}

/**
 * How a tensor operand is read along one row (the innermost collapsed dimension) of the output:
 * - `flat`: laid out exactly like the output, so it shares the output's index;
 * - `row`: contiguous along the row, but its own offset at the row's start (e.g. a bias [C]
 *   added to [N, C]);
 * - `splat`: constant along the row (a per-channel operand over h·w), read once per run.
 */
export type OperandAccess = "flat" | "row" | "splat";

/**
 * The iteration space of an elementwise kernel: the output as `rows` rows of `rowLength`
 * elements, each row cut into runs that one invocation computes, `width` elements (a vec4 or a
 * scalar) at a time. Runs never cross a row, so per-row offsets are decoded once per run.
 */
export interface RunLayout {
  /** Elements per load and store: 4 (vec4) when the row length allows it, else 1. */
  width: 1 | 4;
  /** Units (vec4s or scalars) one invocation computes, at most. */
  unitsPerRun: number;
  /** Elements in the innermost collapsed dimension. */
  rowLength: number;
  rows: number;
  /** The collapsed dimensions above the row, outermost first (empty for a 1-D output). */
  outerShape: number[];
  /** Per tensor operand: how it is read along a row, and its element strides over `outerShape`. */
  operands: { access: OperandAccess; outerStrides: number[] }[];
}

export interface RunLayoutOptions {
  /** Units one invocation computes (CPU adapters: several, to amortise the index math). */
  unitsPerRun: number;
  /** Scalars per invocation when rows are not a multiple of 4 long. */
  scalarsPerRun: number;
}

/**
 * Plans the runs for operands of the given shapes broadcast to `outShape`. vec4 units need every
 * row start to be 4-aligned, which holds for all operands exactly when the row length is a
 * multiple of 4 (a contiguous operand's outer strides are multiples of it).
 */
export function runLayout(outShape: Shape, operandShapes: readonly Shape[], options: RunLayoutOptions): RunLayout {
  const raw = operandShapes.map((shape) => broadcastStrides(shape, outShape));
  const collapsed = collapseDims(outShape, raw);
  // a one-element output collapses to no dimensions: one row of one element, every operand flat
  const shape = collapsed.shape.length > 0 ? collapsed.shape : [1];
  const strides = collapsed.shape.length > 0 ? collapsed.strides : raw.map(() => [1]);
  const rank = shape.length;
  const rowLength = shape[rank - 1];
  const outerShape = shape.slice(0, rank - 1);
  const width = rowLength % 4 === 0 ? 4 : 1;
  const outStrides = contiguousStrides(shape);
  const operands = strides.map((s) => ({ access: accessOf(s, outStrides), outerStrides: s.slice(0, rank - 1) }));
  return {
    width,
    unitsPerRun: width === 4 ? options.unitsPerRun : options.scalarsPerRun,
    rowLength,
    rows: outerShape.reduce((a, b) => a * b, 1),
    outerShape,
    operands,
  };
}

function accessOf(strides: readonly number[], outStrides: readonly number[]): OperandAccess {
  if (strides.every((stride, axis) => stride === outStrides[axis])) return "flat";
  // a contiguous operand broadcast to the output steps by 0 or 1 along the merged innermost dimension
  const inner = strides[strides.length - 1];
  if (inner === 0) return "splat";
  if (inner === 1) return "row";
  throw new RangeError(`Cannot lay out an elementwise operand: innermost stride ${inner}, expected 0 or 1`);
}
