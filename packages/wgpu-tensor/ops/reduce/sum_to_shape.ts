import { DTypeError, ShapeError } from "../../tensor/errors.ts";
import { type HostTensor, hostZeros, unravel } from "../../tensor/host_tensor.ts";
import { broadcastShapes, broadcastStrides, formatShape, type Shape, shapesEqual } from "../../tensor/shape.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { elementwiseKernel } from "../elementwise/elementwise_kernel.ts";
import type { OpDef, TensorSpec } from "../op_def.ts";
import { runOp } from "../run_op.ts";
import { broadcastAxes, reduceGeometry } from "./reduce_geometry.ts";
import { reducePasses } from "./reduce_kernel.ts";
import { referenceReduce } from "./reduce_reference.ts";

/** The target shape of `broadcastTo` and `sumToShape`. */
export interface ShapeAttrs {
  shape: readonly number[];
}

function checkDType(op: string, input: TensorSpec): void {
  if (input.dtype === "u32") {
    throw new DTypeError(op, [input.dtype], `Cannot run ${op} on u32: it supports f32, f16 and i32`);
  }
}

/** `sumToShape` as a primitive: sums the axes along which `shape` was broadcast. */
export const sumToShapeOp: OpDef<ShapeAttrs> = {
  name: "sumToShape",
  check([x], { shape }) {
    checkDType("sumToShape", x);
    broadcastAxes("sumToShape", x.shape, shape);
    return { shape: [...shape], dtype: x.dtype };
  },
  kernel([x], { shape }, output, context) {
    const axes = broadcastAxes("sumToShape", x.shape, shape);
    const geometry = reduceGeometry(x.shape, axes);
    return reducePasses({ op: "sum", inDType: x.dtype, outDType: output.dtype, geometry }, context);
  },
  reference([x], { shape }) {
    const summed = referenceReduce("sum", x, broadcastAxes("sumToShape", x.shape, shape), false);
    return { ...summed, shape: [...shape] };
  },
  backward: ({ inputs: [x], dy }) => [broadcastTo(dy, x.shape)],
  saves: { inputs: false, output: false },
};

/** `broadcastTo` as a primitive: copies `x` into the larger `shape` (NumPy broadcasting). */
export const broadcastToOp: OpDef<ShapeAttrs> = {
  name: "broadcastTo",
  check([x], { shape }) {
    checkDType("broadcastTo", x);
    let fits: boolean;
    try {
      fits = shapesEqual(broadcastShapes("broadcastTo", x.shape, shape), shape);
    } catch {
      fits = false;
    }
    if (!fits) {
      throw new ShapeError(
        "broadcastTo",
        [x.shape, shape],
        `Cannot broadcast ${formatShape(x.shape)} to ${formatShape(shape)}: each dimension must equal the target's or be 1`,
      );
    }
    return { shape: [...shape], dtype: x.dtype };
  },
  kernel([x], _attrs, output, context) {
    return elementwiseKernel(
      {
        name: "broadcastTo",
        expression: ([value]) => value,
        operands: [{ tensor: 0, shape: x.shape }],
        outShape: output.shape,
        inDType: x.dtype,
        outDType: output.dtype,
      },
      context,
    );
  },
  reference([x], { shape }) {
    const out = hostZeros(shape, x.dtype);
    const strides = broadcastStrides(x.shape, shape);
    for (let flat = 0; flat < out.data.length; flat++) {
      const offset = unravel(flat, shape).reduce((sum, i, axis) => sum + i * strides[axis], 0);
      out.data[flat] = x.data[offset];
    }
    return out;
  },
  backward: ({ inputs: [x], dy }) => [sumToShape(dy, x.shape)],
  saves: { inputs: false, output: false },
};

/**
 * Sums `x` over the dimensions along which a tensor of `shape` would be broadcast to `x.shape`,
 * so the result has exactly `shape`: leading extra dimensions are summed away and dimensions where
 * `shape` has 1 are summed with the 1 kept. Autograd uses it to reduce gradients to input shapes.
 *
 * Formula: y[j] = Σ_{i broadcasts to j} x[i]. Gradient: dx = broadcastTo(dy, x.shape).
 *
 * @example
 * ```ts
 * const x = tensor([[1, 2, 3], [4, 5, 6]]);
 * await sumToShape(x, [3]).toArray();    // Float32Array [5, 7, 9]
 * await sumToShape(x, [2, 1]).toArray(); // Float32Array [6, 15]
 * ```
 */
export function sumToShape(x: Tensor, shape: Shape): Tensor {
  return runOp(sumToShapeOp, [x], { shape: [...shape] });
}

/**
 * Broadcasts `x` to `shape` (NumPy rules: dimensions align on the right, a 1 repeats), as a new
 * contiguous tensor.
 *
 * Formula: y[i] = x[i mod broadcast]. Gradient: dx = sumToShape(dy, x.shape).
 *
 * @example
 * ```ts
 * const row = tensor([1, 2, 3]);
 * await broadcastTo(row, [2, 3]).toArray(); // Float32Array [1, 2, 3, 1, 2, 3]
 * ```
 */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  return runOp(broadcastToOp, [x], { shape: [...shape] });
}

/** The plain-JS `sumToShape`, for references that compose it. */
export function referenceSumToShape(x: HostTensor, shape: Shape): HostTensor {
  return sumToShapeOp.reference([x], { shape: [...shape] });
}
