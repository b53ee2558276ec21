import { runOp } from "../run_op.ts";
import type { GradContext, OpDef, TensorSpec } from "../op_def.ts";
import { DTypeError } from "../../tensor/errors.ts";
import type { HostTensor } from "../../tensor/host_tensor.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { type AttentionAttrs, type AttentionDims, attentionDims, expectShape } from "./attention_dims.ts";
import { checkBindingSizes } from "../binding_limit.ts";
import { type AttentionGradKind, attentionGradKernel } from "./attention_backward_kernel.ts";
import { type ReferenceAttentionOptions, referenceAttentionStats, referenceGradientsFromStats } from "./attention_reference.ts";

/** The named inputs of the gradient ops, in binding order; an optional mask follows them. */
type InputName = "query" | "key" | "value" | "output" | "outGrad" | "stats";

const INPUTS: Record<AttentionGradKind, readonly InputName[]> = {
  stats: ["query", "key", "output", "outGrad"],
  query: ["query", "key", "value", "outGrad", "stats"],
  key: ["query", "key", "value", "outGrad", "stats"],
  value: ["query", "key", "outGrad", "stats"],
  mask: ["query", "key", "value", "outGrad", "stats"],
};

const OP_NAMES: Record<AttentionGradKind, string> = {
  stats: "attentionBackwardStats",
  query: "attentionGradQuery",
  key: "attentionGradKey",
  value: "attentionGradValue",
  mask: "attentionGradMask",
};

/** Builds one internal op of the attention gradient; none of them is itself differentiable. */
function attentionGradOp(kind: AttentionGradKind): OpDef<AttentionAttrs> {
  const name = OP_NAMES[kind];
  const names = INPUTS[kind];
  return {
    name,
    check(inputs, attrs) {
      const { dims, dtype } = checkGradInputs(name, kind, inputs, attrs);
      return { shape: outputShape(kind, dims), dtype: kind === "stats" ? "f32" : dtype };
    },
    kernel(inputs, attrs, output, context) {
      const { dims, dtype } = checkGradInputs(name, kind, inputs, attrs);
      checkBindingSizes(name, [...inputs, output], context.maxBindingBytes);
      return attentionGradKernel(kind, dims, attrs, dtype);
    },
    reference(inputs, attrs) {
      const host = Object.fromEntries(names.map((input, i) => [input, inputs[i]])) as Record<InputName, HostTensor>;
      const options: ReferenceAttentionOptions = { scale: attrs.scale, isCausal: attrs.isCausal, mask: inputs[names.length] ?? null };
      if (kind === "stats") return referenceAttentionStats(host.query, host.key, host.output, host.outGrad, options);
      // dV does not read V; a zero value of the right shape lets the shared reference run
      const value = host.value ?? zeroValue(host.outGrad, host.key.shape[2]);
      const grads = referenceGradientsFromStats({ ...host, value }, host.stats, options);
      return grads[kind];
    },
    backward: "notDifferentiable",
  };
}

function checkGradInputs(
  op: string,
  kind: AttentionGradKind,
  inputs: readonly TensorSpec[],
  attrs: AttentionAttrs,
): { dims: AttentionDims; dtype: TensorSpec["dtype"] } {
  const names = INPUTS[kind];
  if (inputs.length !== names.length && inputs.length !== names.length + 1) {
    throw new TypeError(`Cannot run ${op}: it takes ${names.join(", ")} and an optional mask, got ${inputs.length} tensors`);
  }
  const spec = (input: InputName) => inputs[names.indexOf(input)];
  const query = spec("query");
  const outGrad = spec("outGrad");
  const mask = inputs[names.length];
  if (kind === "mask" && !mask) throw new TypeError(`Cannot run ${op}: it needs the mask`);
  // the value is only needed for its shape; the output gradient has the same last dimension
  const valueSize = outGrad.shape.length === 4 ? outGrad.shape[3] : -1;
  const value = names.includes("value")
    ? spec("value")
    : { shape: [query.shape[0], query.shape[1], spec("key").shape[2], valueSize], dtype: outGrad.dtype };
  const dims = attentionDims(op, query, spec("key"), value, mask, attrs);
  const rowsShape = [dims.batch, dims.heads, dims.queries];
  expectShape(op, "the output gradient", outGrad, [...rowsShape, dims.valueSize]);
  if (names.includes("output")) expectShape(op, "the output", spec("output"), [...rowsShape, dims.valueSize]);
  if (names.includes("stats")) expectShape(op, "the statistics", spec("stats"), [...rowsShape, 2]);
  const wrongDType = names.find((input) => spec(input).dtype !== (input === "stats" ? "f32" : query.dtype));
  if (wrongDType) {
    throw new DTypeError(
      op,
      inputs.map((t) => t.dtype),
      `Cannot run ${op}: ${wrongDType} is ${spec(wrongDType).dtype}, expected ${wrongDType === "stats" ? "f32" : query.dtype}`,
    );
  }
  if (kind === "mask" && (dims.queries > 65535 || dims.batch * dims.heads > 65535)) {
    throw new RangeError(`Cannot run ${op}: the mask gradient supports at most 65535 queries and 65535 batch·heads`);
  }
  return { dims, dtype: query.dtype };
}

function outputShape(kind: AttentionGradKind, dims: AttentionDims): number[] {
  const { batch, heads, queries, keys, headSize, valueSize } = dims;
  switch (kind) {
    case "stats":
      return [batch, heads, queries, 2];
    case "query":
      return [batch, heads, queries, headSize];
    case "key":
      return [batch, heads, keys, headSize];
    case "value":
      return [batch, heads, keys, valueSize];
    case "mask":
      return [batch, heads, queries, keys];
  }
}

function zeroValue(outGrad: HostTensor, keys: number): HostTensor {
  const [batch, heads, , valueSize] = outGrad.shape;
  return { shape: [batch, heads, keys, valueSize], dtype: outGrad.dtype, data: new Float64Array(batch * heads * keys * valueSize) };
}

/** Per query row (lse, delta) in f32, shape [B, H, Lq, 2]. Inputs: q, k, output, dO, [mask]. */
export const attentionBackwardStatsOp = attentionGradOp("stats");
/** dQ. Inputs: q, k, v, dO, stats, [mask]. */
export const attentionGradQueryOp = attentionGradOp("query");
/** dK. Inputs: q, k, v, dO, stats, [mask]. */
export const attentionGradKeyOp = attentionGradOp("key");
/** dV. Inputs: q, k, dO, stats, [mask]. */
export const attentionGradValueOp = attentionGradOp("value");
/** dMask = dS, shaped like the scores [B, H, Lq, Lk]. Inputs: q, k, v, dO, stats, mask. */
export const attentionGradMaskOp = attentionGradOp("mask");

/**
 * The gradient rule of scaledDotProductAttention: one statistics pass, then one kernel per input
 * that needs a gradient, each recomputing P from the saved lse instead of storing it.
 */
export function attentionBackward({ inputs, output, dy, attrs }: GradContext<AttentionAttrs>): (Tensor | null)[] {
  const [query, key, value, mask] = inputs;
  const maskInput = mask ? [mask] : [];
  const needs = (index: number) => attrs.needsGrad?.[index] ?? true;
  const stats = runOp(attentionBackwardStatsOp, [query, key, output, dy, ...maskInput], attrs);
  try {
    const grads = [
      needs(0) ? runOp(attentionGradQueryOp, [query, key, value, dy, stats, ...maskInput], attrs) : null,
      needs(1) ? runOp(attentionGradKeyOp, [query, key, value, dy, stats, ...maskInput], attrs) : null,
      needs(2) ? runOp(attentionGradValueOp, [query, key, dy, stats, ...maskInput], attrs) : null,
    ];
    if (mask) grads.push(needs(3) ? runOp(attentionGradMaskOp, [query, key, value, dy, stats, mask], attrs) : null);
    return grads;
  } finally {
    // released to the pool now, reused only after the submit that carries the kernels above
    stats.dispose();
  }
}
