import type { DType } from "./dtype.ts";
import { contiguousStrides, sizeOf } from "./shape.ts";

/**
 * A tensor on the host in f64, used by the plain-JS reference implementations that kernels are
 * tested against. Integer dtypes hold integral values.
 */
export interface HostTensor {
  shape: readonly number[];
  dtype: DType;
  data: Float64Array;
}

export function hostTensor(data: ArrayLike<number>, shape: readonly number[], dtype: DType = "f32"): HostTensor {
  if (data.length !== sizeOf(shape)) {
    throw new RangeError(`Cannot make a host tensor of shape [${shape}]: got ${data.length} values, expected ${sizeOf(shape)}`);
  }
  return { shape: [...shape], dtype, data: Float64Array.from(data) };
}

export function hostZeros(shape: readonly number[], dtype: DType = "f32"): HostTensor {
  return { shape: [...shape], dtype, data: new Float64Array(sizeOf(shape)) };
}

/** Multi-index of flat position `flat` in `shape`. */
export function unravel(flat: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length);
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    index[axis] = flat % shape[axis];
    flat = Math.floor(flat / shape[axis]);
  }
  return index;
}

/** Flat position of a multi-index in a row-major `shape`. */
export function ravel(index: readonly number[], shape: readonly number[]): number {
  const strides = contiguousStrides(shape);
  let flat = 0;
  for (let axis = 0; axis < index.length; axis++) flat += index[axis] * strides[axis];
  return flat;
}
