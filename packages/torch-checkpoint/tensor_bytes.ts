/**
 * A tensor's bytes in row-major order, read from its storage: one range read when the view is
 * contiguous, otherwise the covering range read once and the elements gathered by their strides
 * (transposes, strided slices, stride-0 expansions).
 *
 * @module
 */

import { dtypeByteSize } from "@spo/safetensors";
import type { TensorRef } from "./pickle/py_values.ts";
import type { StorageStore } from "./storage_store.ts";

/** Row-major strides of a shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    strides[axis] = stride;
    stride *= shape[axis]!;
  }
  return strides;
}

/** Whether the view's elements lie back to back in row-major order (strides of size-1 axes do not matter). */
export function isContiguous(tensor: TensorRef): boolean {
  const expected = contiguousStrides(tensor.shape);
  return tensor.shape.every((size, axis) => size <= 1 || tensor.strides[axis] === expected[axis]);
}

/** The element count of the view. */
export function numelOf(tensor: TensorRef): number {
  return tensor.shape.reduce((product, size) => product * size, 1);
}

/** The view's byte length when made contiguous. */
export function tensorByteLength(tensor: TensorRef): number {
  return numelOf(tensor) * dtypeByteSize(tensor.dtype);
}

/** Bytes `[start, end)` of the contiguous form of a tensor. */
export async function readTensorBytes(store: StorageStore, tensor: TensorRef, start: number, end: number): Promise<Uint8Array> {
  const elementSize = dtypeByteSize(tensor.dtype);
  if (end <= start) return new Uint8Array(0);
  if (isContiguous(tensor)) {
    const base = tensor.storageOffset * elementSize;
    return store.read(tensor.storage, base + start, base + end);
  }
  return (await gatherTensor(store, tensor)).subarray(start, end);
}

/** Reads the storage range the view covers and copies its elements out in row-major order. */
async function gatherTensor(store: StorageStore, tensor: TensorRef): Promise<Uint8Array> {
  const elementSize = dtypeByteSize(tensor.dtype);
  const { shape, strides } = tensor;
  let last = tensor.storageOffset;
  shape.forEach((size, axis) => {
    last += (size - 1) * strides[axis]!;
  });
  const first = tensor.storageOffset;
  const source = await store.read(tensor.storage, first * elementSize, (last + 1) * elementSize);
  const output = new Uint8Array(numelOf(tensor) * elementSize);
  const rank = shape.length;
  // Copy runs along the last axis: a whole row at once when it is contiguous in the storage.
  const rowLength = rank === 0 ? 1 : shape[rank - 1]!;
  const rowStride = rank === 0 ? 1 : strides[rank - 1]!;
  const isRowContiguous = rowStride === 1;
  const index = new Array<number>(Math.max(0, rank - 1)).fill(0);
  const rowCount = output.length / elementSize / rowLength;
  let written = 0;
  for (let row = 0; row < rowCount; row++) {
    let element = 0;
    for (let axis = 0; axis < rank - 1; axis++) element += index[axis]! * strides[axis]!;
    const rowStart = element * elementSize;
    if (isRowContiguous) {
      output.set(source.subarray(rowStart, rowStart + rowLength * elementSize), written);
      written += rowLength * elementSize;
    } else {
      for (let i = 0; i < rowLength; i++) {
        const at = rowStart + i * rowStride * elementSize;
        output.set(source.subarray(at, at + elementSize), written);
        written += elementSize;
      }
    }
    for (let axis = rank - 2; axis >= 0; axis--) {
      if (++index[axis]! < shape[axis]!) break;
      index[axis] = 0;
    }
  }
  return output;
}
