import { DTypeError, ShapeError } from "../../tensor/errors.ts";
import { hostZeros, ravel, unravel } from "../../tensor/host_tensor.ts";
import { contiguousStrides, formatShape, normalizeAxis, sizeOf } from "../../tensor/shape.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import type { KernelPlan, OpDef, TensorSpec } from "../op_def.ts";
import { runOp } from "../run_op.ts";
import { unsqueeze } from "./reshape.ts";
import { narrow } from "./slice.ts";
import { copyRunLength, stridedCopyPlan } from "./strided_copy_kernel.ts";

/** The axis to join along (negative counts from the end). */
export interface ConcatAttrs {
  axis: number;
}

function checkConcat(inputs: readonly TensorSpec[], attrs: ConcatAttrs): TensorSpec {
  const shapes = inputs.map((t) => t.shape);
  const describe = () => `Cannot concat ${shapes.map(formatShape).join(", ")} on axis ${attrs.axis}`;
  if (inputs.length === 0) throw new ShapeError("concat", [], "Cannot concat an empty list of tensors");
  const first = inputs[0];
  if (first.shape.length === 0) throw new ShapeError("concat", shapes, `${describe()}: 0-d tensors have no axis to join (use stack)`);
  const axis = normalizeAxis("concat", attrs.axis, first.shape.length);
  if (inputs.some((t) => t.dtype !== first.dtype)) {
    throw new DTypeError(
      "concat",
      inputs.map((t) => t.dtype),
      `${describe()}: dtypes ${inputs.map((t) => t.dtype).join(", ")} must match`,
    );
  }
  const fits = inputs.every(
    (t) => t.shape.length === first.shape.length && t.shape.every((dim, a) => a === axis || dim === first.shape[a]),
  );
  if (!fits) throw new ShapeError("concat", shapes, `${describe()}: all dimensions but the joined one must match`);
  const shape = [...first.shape];
  shape[axis] = inputs.reduce((sum, t) => sum + t.shape[axis], 0);
  return { shape, dtype: first.dtype };
}

/**
 * Joins tensors along an existing axis: one strided-copy dispatch per input writes it into its
 * block of the output (any number of inputs, no binding limit).
 * Gradient: for each input, the slice of dy covering its block.
 */
export const concatOp: OpDef<ConcatAttrs> = {
  name: "concat",
  check: checkConcat,
  kernel(inputs, attrs, output, context) {
    const axis = normalizeAxis("concat", attrs.axis, output.shape.length);
    const outStrides = contiguousStrides(output.shape);
    const passes: KernelPlan[] = [];
    let offset = 0;
    inputs.forEach((input, i) => {
      if (sizeOf(input.shape) > 0) {
        passes.push(
          stridedCopyPlan({
            dtype: input.dtype,
            shape: input.shape,
            inStrides: contiguousStrides(input.shape),
            outStrides,
            outOffset: offset * outStrides[axis],
            source: { input: i },
            runLength: copyRunLength(context),
          }),
        );
      }
      offset += input.shape[axis];
    });
    return { passes };
  },
  reference(inputs, attrs) {
    const spec = checkConcat(inputs, attrs);
    const axis = normalizeAxis("concat", attrs.axis, spec.shape.length);
    const out = hostZeros(spec.shape, spec.dtype);
    let offset = 0;
    for (const input of inputs) {
      for (let flat = 0; flat < input.data.length; flat++) {
        const index = unravel(flat, input.shape);
        index[axis] += offset;
        out.data[ravel(index, out.shape)] = input.data[flat];
      }
      offset += input.shape[axis];
    }
    return out;
  },
  backward: ({ inputs, dy, attrs }) => {
    const axis = normalizeAxis("concat", attrs.axis, dy.ndim);
    let offset = 0;
    return inputs.map((input) => {
      const grad = narrow(dy, axis, offset, input.shape[axis]);
      offset += input.shape[axis];
      return grad;
    });
  },
  saves: { inputs: false, output: false },
};

/**
 * Joins tensors along `axis` (like `torch.cat`); all other dimensions must match.
 * Gradient: each input gets its slice of dy.
 *
 * @example
 * ```ts
 * concat([zeros([2, 3]), ones([2, 5])], 1).shape; // [2, 8]
 * ```
 */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new ShapeError("concat", [], "Cannot concat an empty list of tensors");
  return runOp(concatOp, tensors, { axis });
}

/**
 * Joins same-shaped tensors along a new axis (like `torch.stack`).
 * Gradient: each input gets its slice of dy.
 *
 * @example
 * ```ts
 * stack([zeros([2, 3]), ones([2, 3])], 1).shape; // [2, 2, 3]
 * ```
 */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new ShapeError("stack", [], "Cannot stack an empty list of tensors");
  const first = tensors[0].shape;
  if (tensors.some((t) => t.ndim !== first.length || t.shape.some((dim, a) => dim !== first[a]))) {
    throw new ShapeError(
      "stack",
      tensors.map((t) => t.shape),
      `Cannot stack ${tensors.map((t) => formatShape(t.shape)).join(", ")}: all shapes must match`,
    );
  }
  const resolved = normalizeAxis("stack", axis, first.length + 1);
  const expanded = tensors.map((t) => unsqueeze(t, resolved));
  try {
    return concat(expanded, resolved);
  } finally {
    expanded.forEach((t) => t.dispose());
  }
}
