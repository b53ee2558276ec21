import { type HostTensor, hostZeros, unravel } from "../../tensor/host_tensor.ts";
import { sizeOf } from "../../tensor/shape.ts";
import { activate } from "./matmul_epilogue.ts";
import { checkMatmul, type MatmulAttrs, matrixSizes } from "./matmul_shape.ts";

/**
 * The fused matmul in plain loops with f64 accumulation: for every batch index (broadcast like
 * numpy), `y[i, j] = act(alpha·Σₖ op(a)[i, k]·op(b)[k, j] + bias[j]) + residual[i, j]`.
 * Inputs are `[a, b, bias?, residual?]`.
 */
export function referenceMatmul(inputs: readonly HostTensor[], attrs: MatmulAttrs): HostTensor {
  const [a, b] = inputs;
  const bias = attrs.hasBias ? inputs[2] : null;
  const residual = attrs.hasResidual ? inputs[attrs.hasBias ? 3 : 2] : null;
  const { m, n, k } = matrixSizes(a.shape, b.shape, attrs);
  const outShape = checkMatmul(inputs, attrs).shape;
  const out = hostZeros(outShape, a.dtype);
  const batchShape = outShape.slice(0, -2);
  const batchCount = sizeOf(batchShape);
  for (let batch = 0; batch < batchCount; batch++) {
    const index = unravel(batch, batchShape);
    const aBase = matrixOffset(a.shape, index);
    const bBase = matrixOffset(b.shape, index);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let t = 0; t < k; t++) {
          const aValue = attrs.transposeA ? a.data[aBase + t * m + i] : a.data[aBase + i * k + t];
          const bValue = attrs.transposeB ? b.data[bBase + j * k + t] : b.data[bBase + t * n + j];
          sum += aValue * bValue;
        }
        const flat = (batch * m + i) * n + j;
        let value = attrs.alpha * sum + (bias ? bias.data[j] : 0);
        value = activate(attrs.activation, value);
        out.data[flat] = value + (residual ? residual.data[flat] : 0);
      }
    }
  }
  return out;
}

/** Offset of the matrix an operand of `shape` supplies for a batch multi-index (broadcasting). */
function matrixOffset(shape: readonly number[], batchIndex: readonly number[]): number {
  const own = shape.slice(0, -2);
  const skip = batchIndex.length - own.length;
  let offset = 0;
  for (let axis = 0; axis < own.length; axis++) {
    const i = own[axis] === 1 ? 0 : batchIndex[axis + skip];
    offset = offset * own[axis] + i;
  }
  return offset * sizeOf(shape.slice(-2));
}
