import { type DType, isFloat } from "../../tensor/dtype.ts";
import { DTypeError, ShapeError } from "../../tensor/errors.ts";
import { formatShape, type Shape, sizeOf } from "../../tensor/shape.ts";
import { collapseDims } from "../elementwise/elementwise_layout.ts";
import type { TensorSpec } from "../op_def.ts";
import { ACTIVATIONS, type Epilogue } from "./matmul_epilogue.ts";

/**
 * Attributes of the fused matmul primitive: `y = act(alpha·op(a)·op(b) + bias) + residual`, where
 * `op(x)` is `x` or its last two dimensions swapped. Inputs are `[a, b, bias?, residual?]`.
 */
export interface MatmulAttrs extends Epilogue {
  transposeA: boolean;
  transposeB: boolean;
}

/** Most collapsed batch dimensions a kernel indexes (more only arise from odd broadcasts). */
export const MAX_BATCH_RANK = 4;

/**
 * Everything a kernel needs to know about one matmul: matrix sizes, and the batch as at most
 * MAX_BATCH_RANK merged dimensions with the element stride of each operand's matrix along them
 * (0 where the operand broadcasts). Outputs are contiguous `[...batch, m, n]`.
 */
export interface MatmulGeometry {
  m: number;
  n: number;
  k: number;
  batch: number;
  batchDims: number[];
  aBatchStrides: number[];
  bBatchStrides: number[];
  outShape: number[];
}

function describe(a: Shape, b: Shape, attrs: MatmulAttrs): string {
  const flags = [attrs.transposeA ? "transposeA" : "", attrs.transposeB ? "transposeB" : ""].filter((f) => f);
  return `Cannot matmul ${formatShape(a)} by ${formatShape(b)}${flags.length > 0 ? ` (${flags.join(", ")})` : ""}`;
}

/** Matrix sizes of op(a) (m×k) and op(b) (k×n), checked against each other. */
export function matrixSizes(a: Shape, b: Shape, attrs: MatmulAttrs): { m: number; n: number; k: number } {
  if (a.length < 2 || b.length < 2) {
    throw new ShapeError(
      "matmul",
      [a, b],
      `${describe(a, b, attrs)}: both operands need at least 2 dimensions, got ranks ${a.length} and ${b.length} (reshape a vector to [1, k] or [k, 1] first)`,
    );
  }
  const [aRows, aCols] = a.slice(-2);
  const [bRows, bCols] = b.slice(-2);
  const m = attrs.transposeA ? aCols : aRows;
  const kA = attrs.transposeA ? aRows : aCols;
  const kB = attrs.transposeB ? bCols : bRows;
  const n = attrs.transposeB ? bRows : bCols;
  if (kA !== kB) {
    throw new ShapeError("matmul", [a, b], `${describe(a, b, attrs)}: inner dimensions are ${kA} and ${kB}, they must match`);
  }
  return { m, n, k: kA };
}

/** Broadcasts the batch dimensions (all but the last two) of a and b, numpy style. */
function batchShape(a: Shape, b: Shape, attrs: MatmulAttrs): number[] {
  const batchA = a.slice(0, -2);
  const batchB = b.slice(0, -2);
  const rank = Math.max(batchA.length, batchB.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const dimA = batchA[batchA.length - rank + i] ?? 1;
    const dimB = batchB[batchB.length - rank + i] ?? 1;
    if (dimA !== dimB && dimA !== 1 && dimB !== 1) {
      throw new ShapeError(
        "matmul",
        [a, b],
        `${describe(a, b, attrs)}: batch dimensions ${formatShape(batchA)} and ${formatShape(batchB)} do not broadcast`,
      );
    }
    out.push(dimA === 1 ? dimB : dimA);
  }
  return out;
}

/** Element strides of an operand's matrices along the output batch dimensions (0: broadcast). */
function matrixStrides(shape: Shape, batch: Shape): number[] {
  const own = shape.slice(0, -2);
  const offset = batch.length - own.length;
  const strides = new Array<number>(batch.length).fill(0);
  let stride = sizeOf(shape.slice(-2));
  for (let axis = own.length - 1; axis >= 0; axis--) {
    if (own[axis] !== 1) strides[axis + offset] = stride;
    stride *= own[axis];
  }
  return strides;
}

/** Checks dtypes and shapes of `[a, b, bias?, residual?]` and returns the output spec. */
export function checkMatmul(inputs: readonly TensorSpec[], attrs: MatmulAttrs): TensorSpec {
  const expected = 2 + (attrs.hasBias ? 1 : 0) + (attrs.hasResidual ? 1 : 0);
  if (inputs.length !== expected) {
    throw new TypeError(
      `Cannot run matmul: expected ${expected} tensor inputs (a, b${attrs.hasBias ? ", bias" : ""}${attrs.hasResidual ? ", residual" : ""}), got ${inputs.length}`,
    );
  }
  const [a, b] = inputs;
  const dtypes = inputs.map((t) => t.dtype);
  if (dtypes.some((d) => d !== a.dtype)) {
    throw new DTypeError("matmul", dtypes, `Cannot matmul ${dtypes.join(" by ")}: all operands must have one dtype (cast first)`);
  }
  if (!isFloat(a.dtype)) {
    throw new DTypeError("matmul", dtypes, `Cannot matmul ${a.dtype} tensors: it needs f32 or f16`);
  }
  const { m, n } = matrixSizes(a.shape, b.shape, attrs);
  const outShape = [...batchShape(a.shape, b.shape, attrs), m, n];
  let next = 2;
  if (attrs.hasBias) {
    const bias = inputs[next++];
    if (bias.shape.length !== 1 || bias.shape[0] !== n) {
      throw new ShapeError(
        "matmul",
        [a.shape, b.shape, bias.shape],
        `${describe(a.shape, b.shape, attrs)} with bias ${formatShape(bias.shape)}: expected bias shape [${n}] (one value per output column)`,
      );
    }
  }
  if (attrs.hasResidual) {
    const residual = inputs[next++];
    if (formatShape(residual.shape) !== formatShape(outShape)) {
      throw new ShapeError(
        "matmul",
        [a.shape, b.shape, residual.shape],
        `${describe(a.shape, b.shape, attrs)} with residual ${formatShape(residual.shape)}: expected the output shape ${formatShape(outShape)}`,
      );
    }
  }
  if (!Number.isFinite(attrs.alpha)) throw new RangeError(`Cannot matmul with alpha ${attrs.alpha}: it must be finite`);
  if (!ACTIVATIONS.includes(attrs.activation)) {
    throw new TypeError(
      `Cannot matmul with activation "${attrs.activation}": expected one of ${ACTIVATIONS.map((a) => `"${a}"`).join(", ")}`,
    );
  }
  return { shape: outShape, dtype: a.dtype as DType };
}

/**
 * Kernel geometry of a checked matmul. When b has no batch of its own and a is not transposed,
 * a's batch folds into its rows (one [batch·m, k] × [k, n] product), which is both faster and
 * the common case (a linear layer on [batch, tokens, features]).
 */
export function matmulGeometry(a: Shape, b: Shape, attrs: MatmulAttrs): MatmulGeometry {
  const { m, n, k } = matrixSizes(a, b, attrs);
  const batch = batchShape(a, b, attrs);
  const outShape = [...batch, m, n];
  const aStrides = matrixStrides(a, batch);
  const bStrides = matrixStrides(b, batch);
  if (!attrs.transposeA && bStrides.every((s) => s === 0) && aStrides.every((s, i) => s !== 0 || batch[i] === 1)) {
    return { m: m * sizeOf(batch), n, k, batch: 1, batchDims: [], aBatchStrides: [], bBatchStrides: [], outShape };
  }
  const merged = collapseDims(batch, [aStrides, bStrides]);
  if (merged.shape.length > MAX_BATCH_RANK) {
    throw new ShapeError(
      "matmul",
      [a, b],
      `${describe(a, b, attrs)}: the batch broadcast needs ${merged.shape.length} separate dimensions, at most ${MAX_BATCH_RANK} are supported`,
    );
  }
  return {
    m,
    n,
    k,
    batch: sizeOf(batch),
    batchDims: merged.shape,
    aBatchStrides: merged.strides[0],
    bBatchStrides: merged.strides[1],
    outShape,
  };
}
