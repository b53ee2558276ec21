import type { TensorSpec } from "../op_def.ts";
import { isFloat } from "../../tensor/dtype.ts";
import { DTypeError, ShapeError } from "../../tensor/errors.ts";
import { broadcastStrides, formatShape, type Shape } from "../../tensor/shape.ts";
import { Params } from "../../wgsl/params.ts";

/** Attributes shared by the attention forward op and the ops of its gradient. */
export interface AttentionAttrs {
  /** Multiplies QKᵀ before the mask is added and the softmax taken (resolved; no default here). */
  scale: number;
  /** Key j is visible to query i only when j ≤ i (top-left aligned, as in PyTorch). */
  isCausal: boolean;
  /**
   * Which of the forward inputs (query, key, value, mask) need a gradient, as known when the
   * forward ran; backward skips the others. Absent means all of them.
   */
  needsGrad?: readonly boolean[];
}

/** The sizes every attention kernel is parameterised by. */
export interface AttentionDims {
  batch: number;
  heads: number;
  /** Query length Lq. */
  queries: number;
  /** Key (and value) length Lk. */
  keys: number;
  /** Query/key head size D. */
  headSize: number;
  /** Value head size Dv (the output's last dimension). */
  valueSize: number;
  /** Element strides reading the mask as [B, H, Lq, Lk] (0 along broadcast dims), or null. */
  maskStrides: readonly number[] | null;
}

/** Largest head size the kernels' private arrays are built for. */
export const MAX_HEAD_SIZE = 256;

/**
 * Validates query [B, H, Lq, D], key [B, H, Lk, D], a value-like [B, H, Lk, Dv] and an optional
 * additive mask broadcastable to [B, H, Lq, Lk]; throws ShapeError/DTypeError naming `op`.
 */
export function attentionDims(
  op: string,
  query: TensorSpec,
  key: TensorSpec,
  value: TensorSpec,
  mask: TensorSpec | undefined,
  attrs: AttentionAttrs,
): AttentionDims {
  const named: [string, TensorSpec][] = [
    ["query", query],
    ["key", key],
    ["value", value],
  ];
  if (mask) named.push(["mask", mask]);
  checkDTypes(op, named);
  const shapes = named.map(([, spec]) => spec.shape);
  const described = named.map(([name, spec]) => `${name} ${formatShape(spec.shape)}`).join(", ");
  for (const [name, spec] of named.slice(0, 3)) {
    if (spec.shape.length !== 4) {
      throw new ShapeError(op, shapes, `Cannot run ${op} on ${described}: ${name} must be 4-D [batch, heads, length, headSize]`);
    }
  }
  const [batch, heads, queries, headSize] = query.shape;
  const [, , keys, keySize] = key.shape;
  const valueSize = value.shape[3];
  if (key.shape[0] !== batch || value.shape[0] !== batch || key.shape[1] !== heads || value.shape[1] !== heads) {
    throw new ShapeError(op, shapes, `Cannot run ${op} on ${described}: batch and head dimensions must match`);
  }
  if (keySize !== headSize) {
    throw new ShapeError(
      op,
      shapes,
      `Cannot run ${op} on ${described}: query and key head sizes are ${headSize} and ${keySize}, they must match`,
    );
  }
  if (value.shape[2] !== keys) {
    throw new ShapeError(
      op,
      shapes,
      `Cannot run ${op} on ${described}: key and value lengths are ${keys} and ${value.shape[2]}, they must match`,
    );
  }
  if (keys === 0 || headSize === 0) {
    throw new ShapeError(op, shapes, `Cannot run ${op} on ${described}: it needs at least one key and a head size of at least 1`);
  }
  if (headSize > MAX_HEAD_SIZE || valueSize > MAX_HEAD_SIZE) {
    throw new ShapeError(op, shapes, `Cannot run ${op} on ${described}: head sizes above ${MAX_HEAD_SIZE} are not supported`);
  }
  if (batch > 65535 || heads > 65535) {
    throw new ShapeError(op, shapes, `Cannot run ${op} on ${described}: batch and head counts above 65535 are not supported`);
  }
  if (!Number.isFinite(attrs.scale)) {
    throw new RangeError(`Cannot run ${op}: scale must be a finite number, got ${attrs.scale}`);
  }
  const scoreShape = [batch, heads, queries, keys];
  let maskStrides: number[] | null = null;
  if (mask) {
    if (attrs.isCausal) {
      throw new TypeError(`Cannot run ${op} with both a mask and isCausal: pass one of them`);
    }
    const fits = mask.shape.length <= 4 && mask.shape.every((dim, i) => dim === 1 || dim === scoreShape[4 - mask.shape.length + i]);
    if (!fits) {
      throw new ShapeError(
        op,
        shapes,
        `Cannot run ${op} on ${described}: the mask must broadcast to the scores ${formatShape(scoreShape)}`,
      );
    }
    maskStrides = broadcastStrides(mask.shape, scoreShape);
  }
  return { batch, heads, queries, keys, headSize, valueSize, maskStrides };
}

/** Throws unless `spec` has exactly `shape` (for the extra inputs of the gradient ops). */
export function expectShape(op: string, name: string, spec: TensorSpec, shape: Shape): void {
  const matches = spec.shape.length === shape.length && spec.shape.every((dim, i) => dim === shape[i]);
  if (!matches) {
    throw new ShapeError(
      op,
      [spec.shape, shape],
      `Cannot run ${op}: ${name} has shape ${formatShape(spec.shape)}, expected ${formatShape(shape)}`,
    );
  }
}

function checkDTypes(op: string, named: readonly [string, TensorSpec][]): void {
  const dtypes = named.map(([, spec]) => spec.dtype);
  if (!isFloat(dtypes[0]) || dtypes.some((dtype) => dtype !== dtypes[0])) {
    const listed = named.map(([name, spec]) => `${name} ${spec.dtype}`).join(", ");
    throw new DTypeError(op, dtypes, `Cannot run ${op} on ${listed}: all must be the same float dtype (f32 or f16)`);
  }
}

/** Uniform parameters every attention kernel reads, in one order. */
export function attentionParams(dims: AttentionDims, attrs: AttentionAttrs): Params {
  const params = new Params()
    .u32("heads", dims.heads)
    .u32("lq", dims.queries)
    .u32("lk", dims.keys)
    .u32("d", dims.headSize)
    .u32("dv", dims.valueSize)
    .f32("scale", attrs.scale)
    .u32("causal", attrs.isCausal ? 1 : 0);
  if (dims.maskStrides) {
    const [strideB, strideH, strideI, strideJ] = dims.maskStrides;
    params.u32("maskB", strideB).u32("maskH", strideH).u32("maskI", strideI).u32("maskJ", strideJ);
  }
  return params;
}
