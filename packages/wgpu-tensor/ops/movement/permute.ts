import { ShapeError } from "../../tensor/errors.ts";
import { hostZeros, unravel } from "../../tensor/host_tensor.ts";
import { contiguousStrides, formatShape, normalizeAxis } from "../../tensor/shape.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import type { OpDef, TensorSpec } from "../op_def.ts";
import { runOp } from "../run_op.ts";
import { copyRunLength, stridedCopyPlan } from "./strided_copy_kernel.ts";

/** `dims[k]` is the input dimension that becomes output dimension k. */
export interface PermuteAttrs {
  dims: readonly number[];
}

function resolveDims(x: TensorSpec, dims: readonly number[]): number[] {
  const describe = () => `Cannot permute ${formatShape(x.shape)} by [${dims.join(", ")}]`;
  if (dims.length !== x.shape.length) {
    throw new ShapeError("permute", [x.shape], `${describe()}: ${dims.length} dimensions given, the tensor has ${x.shape.length}`);
  }
  const resolved = dims.map((dim) => normalizeAxis("permute", dim, x.shape.length));
  if (new Set(resolved).size !== resolved.length) {
    throw new ShapeError("permute", [x.shape], `${describe()}: every dimension must appear exactly once`);
  }
  return resolved;
}

/** The permutation that undoes `dims`. */
export function inversePermutation(dims: readonly number[]): number[] {
  const inverse = new Array<number>(dims.length);
  dims.forEach((dim, k) => (inverse[dim] = k));
  return inverse;
}

/**
 * Reorders dimensions: y[i₀, …, iₙ] = x at the index whose dimension dims[k] is iₖ, like
 * `torch.permute`, copied into a new contiguous tensor. Gradient: dy permuted by the inverse.
 */
export const permuteOp: OpDef<PermuteAttrs> = {
  name: "permute",
  check([x], attrs) {
    const dims = resolveDims(x, attrs.dims);
    return { shape: dims.map((dim) => x.shape[dim]), dtype: x.dtype };
  },
  kernel([x], attrs, output, context) {
    const dims = resolveDims(x, attrs.dims);
    const inStrides = contiguousStrides(x.shape);
    return stridedCopyPlan({
      dtype: x.dtype,
      shape: output.shape,
      inStrides: dims.map((dim) => inStrides[dim]),
      outStrides: contiguousStrides(output.shape),
      runLength: copyRunLength(context),
    });
  },
  reference([x], attrs) {
    const dims = resolveDims(x, attrs.dims);
    const out = hostZeros(
      dims.map((dim) => x.shape[dim]),
      x.dtype,
    );
    const inStrides = contiguousStrides(x.shape);
    for (let flat = 0; flat < out.data.length; flat++) {
      const index = unravel(flat, out.shape);
      let source = 0;
      index.forEach((i, k) => (source += i * inStrides[dims[k]]));
      out.data[flat] = x.data[source];
    }
    return out;
  },
  backward: ({ inputs, dy, attrs }) => [permute(dy, inversePermutation(resolveDims(inputs[0], attrs.dims)))],
  saves: { inputs: false, output: false },
};

/**
 * Reorders dimensions (a copy, like `x.permute(dims).contiguous()` in PyTorch).
 * Gradient: dy permuted by the inverse permutation.
 *
 * @example
 * ```ts
 * const x = zeros([2, 3, 4]);
 * permute(x, [2, 0, 1]).shape; // [4, 2, 3]
 * ```
 */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  return runOp(permuteOp, [x], { dims: [...dims] });
}

/**
 * Swaps two dimensions (a copy). Gradient: the same swap of dy.
 *
 * @example
 * ```ts
 * transpose(zeros([2, 3, 4]), 0, -1).shape; // [4, 3, 2]
 * ```
 */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  if (x.ndim === 0) return permute(x, []);
  const a = normalizeAxis("transpose", dim0, x.ndim);
  const b = normalizeAxis("transpose", dim1, x.ndim);
  const dims = x.shape.map((_, axis) => axis);
  dims[a] = b;
  dims[b] = a;
  return permute(x, dims);
}
