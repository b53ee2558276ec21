import { bytesPerElement, isFloat } from "../../tensor/dtype.ts";
import { DTypeError, ShapeError } from "../../tensor/errors.ts";
import { hostZeros } from "../../tensor/host_tensor.ts";
import { formatShape, sizeOf } from "../../tensor/shape.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import type { TensorSpec } from "../op_def.ts";
import { embeddingGradPlan, embeddingPlan, type RowTable, zeroWindowPlan } from "./embedding_kernel.ts";
import { asWholeBufferPlans, planWindows, runWindowedOp, type WindowContext, type WindowedOpDef } from "./windowed_run.ts";

/** Options of the embedding kernels. */
export interface EmbeddingAttrs {
  /**
   * Largest binding window in bytes (default: the device's `maxStorageBufferBindingSize`). Tests
   * set it small to exercise the split-binding path on small tables.
   */
  windowBytes?: number;
}

/** The gradient's table size. */
export interface EmbeddingGradAttrs extends EmbeddingAttrs {
  numRows: number;
}

function checkIds(op: string, table: TensorSpec, ids: TensorSpec): "i32" | "u32" {
  if (ids.dtype !== "i32" && ids.dtype !== "u32") {
    throw new DTypeError(op, [table.dtype, ids.dtype], `Cannot run ${op} with ids of dtype ${ids.dtype}: ids must be i32 or u32`);
  }
  if (!isFloat(table.dtype)) {
    throw new DTypeError(op, [table.dtype, ids.dtype], `Cannot run ${op} on a ${table.dtype} table: it must be f32 or f16`);
  }
  return ids.dtype;
}

function rowTable(
  table: TensorSpec,
  rows: number,
  dim: number,
  idsDType: "i32" | "u32",
  attrs: EmbeddingAttrs,
  context: WindowContext,
  op: string,
): RowTable {
  const windowBytes = Math.min(attrs.windowBytes ?? context.maxBindingBytes, context.maxBindingBytes);
  const elementBytes = bytesPerElement(table.dtype);
  const { stepBytes, windows } = planWindows(rows * dim * elementBytes, windowBytes, context.offsetAlignment);
  if (windows.length + 2 > context.maxStorageBuffers) {
    throw new RangeError(
      `Cannot run ${op} on a [${rows}, ${dim}] ${table.dtype} table: it needs ${windows.length} binding windows, the device allows ${context.maxStorageBuffers - 2}`,
    );
  }
  return { dtype: table.dtype, idsDType, rows, dim, windowElems: stepBytes / elementBytes, windows };
}

/**
 * Row lookup: y[…, d] = weight[ids[…], d] for weight [V, D] and integer ids of any shape, like
 * `torch.nn.functional.embedding`; ids outside [0, V) read as zeros. The weight may exceed one
 * storage binding (SD's 49408×768 f32 CLIP token table is 152 MB > 128 MiB): it is bound as
 * several windows of its buffer. Gradient: dW = scatter-sum of dy rows by id (`embeddingGradOp`);
 * ids get none.
 */
export const embeddingOp: WindowedOpDef<EmbeddingAttrs> = {
  name: "embedding",
  check([weight, ids]) {
    checkIds("embedding", weight, ids);
    if (weight.shape.length !== 2) {
      throw new ShapeError(
        "embedding",
        [weight.shape, ids.shape],
        `Cannot run embedding with a weight of shape ${formatShape(weight.shape)}: it must be [rows, dim]`,
      );
    }
    return { shape: [...ids.shape, weight.shape[1]], dtype: weight.dtype };
  },
  windowedKernel([weight, ids], attrs, _output, context) {
    const [rows, dim] = weight.shape;
    const table = rowTable(weight, rows, dim, checkIds("embedding", weight, ids), attrs, context, "embedding");
    return [embeddingPlan(table, sizeOf(ids.shape))];
  },
  kernel(inputs, attrs, output, context) {
    // runOp binds whole buffers: fine for one window, refused (with a pointer to runWindowedOp) for more
    const plans = embeddingOp.windowedKernel(inputs, attrs, output, { ...context, offsetAlignment: 256, maxStorageBuffers: 8 });
    return { passes: asWholeBufferPlans("embedding", plans) };
  },
  reference([weight, ids]) {
    const [rows, dim] = weight.shape;
    const out = hostZeros([...ids.shape, dim], weight.dtype);
    ids.data.forEach((id, n) => {
      if (id < 0 || id >= rows) return;
      for (let d = 0; d < dim; d++) out.data[n * dim + d] = weight.data[id * dim + d];
    });
    return out;
  },
  backward: ({ inputs, dy, attrs }) => [embeddingGrad(dy, inputs[1], inputs[0].shape[0], attrs), null],
  saves: { inputs: true, output: false },
};

/**
 * The embedding gradient: dW[v, d] = Σ_{n : ids[n] = v} dy[n, d], shaped [numRows, D]. No atomics:
 * a zero pass, then one pass where the first position of each id sums its rows (cost
 * O(V·D + N²·D) for N ids; fine for token sequences). The output may exceed one binding.
 */
export const embeddingGradOp: WindowedOpDef<EmbeddingGradAttrs> = {
  name: "embeddingGrad",
  check([dy, ids], attrs) {
    checkIds("embeddingGrad", dy, ids);
    const dim = dy.shape.at(-1) ?? 0;
    const fits = dy.shape.length === ids.shape.length + 1 && ids.shape.every((size, a) => size === dy.shape[a]);
    if (!fits || !Number.isInteger(attrs.numRows) || attrs.numRows < 0) {
      throw new ShapeError(
        "embeddingGrad",
        [dy.shape, ids.shape],
        `Cannot run embeddingGrad with dy ${formatShape(dy.shape)} and ids ${formatShape(ids.shape)} into ${attrs.numRows} rows: dy must be ids' shape plus one dimension`,
      );
    }
    return { shape: [attrs.numRows, dim], dtype: dy.dtype };
  },
  windowedKernel([dy, ids], attrs, output, context) {
    const [rows, dim] = output.shape;
    const table = rowTable(dy, rows, dim, checkIds("embeddingGrad", dy, ids), attrs, context, "embeddingGrad");
    const elementBytes = bytesPerElement(dy.dtype);
    const total = rows * dim;
    const zeros = table.windows.map((window) =>
      zeroWindowPlan(dy.dtype, window, Math.min(table.windowElems, total - window.byteOffset / elementBytes)),
    );
    const count = sizeOf(ids.shape);
    return count === 0 ? zeros : [...zeros, embeddingGradPlan(table, count)];
  },
  kernel(inputs, attrs, output, context) {
    const plans = embeddingGradOp.windowedKernel(inputs, attrs, output, { ...context, offsetAlignment: 256, maxStorageBuffers: 8 });
    return { passes: asWholeBufferPlans("embeddingGrad", plans) };
  },
  reference([dy, ids], attrs) {
    const dim = dy.shape.at(-1) ?? 0;
    const out = hostZeros([attrs.numRows, dim], dy.dtype);
    ids.data.forEach((id, n) => {
      if (id < 0 || id >= attrs.numRows) return;
      for (let d = 0; d < dim; d++) out.data[id * dim + d] += dy.data[n * dim + d];
    });
    return out;
  },
  backward: "notDifferentiable",
};

/**
 * Looks up rows of `weight` [V, D] for integer `ids` of any shape → [...ids.shape, D], like
 * `torch.nn.functional.embedding`. Works for tables larger than one storage binding.
 * Gradient: dW[v] = Σ of dy rows whose id is v.
 *
 * @example
 * ```ts
 * const weight = tensor([[0, 1], [10, 11], [20, 21]]);
 * const ids = tensor([2, 0, 2], [3], { dtype: "i32" });
 * await embedding(weight, ids).toArray(); // [20, 21, 0, 1, 20, 21]
 * ```
 */
export function embedding(weight: Tensor, ids: Tensor, attrs: EmbeddingAttrs = {}): Tensor {
  return runWindowedOp(embeddingOp, [weight, ids], attrs);
}

/**
 * The embedding gradient as an op: dy [...ids.shape, D] summed by id into [numRows, D].
 *
 * @example
 * ```ts
 * const dy = tensor([[1, 1], [2, 2], [3, 3]]);
 * const ids = tensor([1, 0, 1], [3], { dtype: "i32" });
 * await embeddingGrad(dy, ids, 2).toArray(); // [2, 2, 4, 4]
 * ```
 */
export function embeddingGrad(dy: Tensor, ids: Tensor, numRows: number, attrs: EmbeddingAttrs = {}): Tensor {
  return runWindowedOp(embeddingGradOp, [dy, ids], { ...attrs, numRows });
}
