/**
 * A checkpoint's tensors laid out as the data area of a safetensors file: each tensor,
 * contiguous, at an offset that is a multiple of 8. Reading a range of that virtual file reads
 * the tensors it covers from their storages. This is what lets a checkpoint be a
 * `SafetensorsReader`, so every loader that takes one takes a checkpoint.
 *
 * @module
 */

import type { ByteSource, SafetensorsHeader, TensorInfo } from "@spo/safetensors";
import { TorchCheckpointError } from "./errors.ts";
import type { TensorRef } from "./pickle/py_values.ts";
import type { StorageStore } from "./storage_store.ts";
import { readTensorBytes, tensorByteLength } from "./tensor_bytes.ts";

const ALIGNMENT = 8;

/** A tensor in the virtual layout. */
export interface LaidOutTensor {
  readonly name: string;
  readonly tensor: TensorRef;
  readonly begin: number;
  readonly end: number;
}

/** Lays out tensors back to back, each starting at a multiple of 8, in the given order. */
export function layOut(tensors: readonly [string, TensorRef][]): LaidOutTensor[] {
  const laidOut: LaidOutTensor[] = [];
  let at = 0;
  for (const [name, tensor] of tensors) {
    at = Math.ceil(at / ALIGNMENT) * ALIGNMENT;
    const end = at + tensorByteLength(tensor);
    laidOut.push({ name, tensor, begin: at, end });
    at = end;
  }
  return laidOut;
}

/** The safetensors header describing a layout (no header bytes: the data area starts at 0). */
export function headerOf(laidOut: readonly LaidOutTensor[]): SafetensorsHeader {
  const tensors: TensorInfo[] = laidOut.map(({ name, tensor, begin, end }) => ({
    name,
    dtype: tensor.dtype,
    shape: [...tensor.shape],
    dataOffsets: [begin, end],
  }));
  const dataByteLength = laidOut.length === 0 ? 0 : laidOut[laidOut.length - 1]!.end;
  return { headerByteLength: 0, dataByteOffset: 0, dataByteLength, tensors, metadata: {} };
}

/** The virtual data area as a {@link ByteSource}; closing it closes the checkpoint's file. */
export class VirtualTensorSource implements ByteSource {
  readonly description: string;
  readonly byteLength: number;
  readonly #laidOut: readonly LaidOutTensor[];
  readonly #store: StorageStore;
  #isClosed = false;

  constructor(description: string, laidOut: readonly LaidOutTensor[], store: StorageStore) {
    this.description = description;
    this.#laidOut = laidOut;
    this.#store = store;
    this.byteLength = laidOut.length === 0 ? 0 : laidOut[laidOut.length - 1]!.end;
  }

  /** Bytes `[start, end)` of the virtual data area; padding between tensors reads as zeros. */
  async read(start: number, end: number): Promise<Uint8Array> {
    if (this.#isClosed) throw new TorchCheckpointError("closed", `Cannot read tensors from ${this.description}: the checkpoint is closed`);
    const stop = Math.min(end, this.byteLength);
    const first = this.#firstEndingAfter(start);
    const only = this.#laidOut[first];
    if (only !== undefined && only.begin <= start && stop <= only.end) {
      // one tensor's bytes (what tensor(name) asks for): hand over the storage read, no second copy
      return readTensorBytes(this.#store, only.tensor, start - only.begin, stop - only.begin);
    }
    const output = new Uint8Array(Math.max(0, stop - start));
    for (let index = first; index < this.#laidOut.length; index++) {
      const item = this.#laidOut[index]!;
      if (item.begin >= stop) break;
      const from = Math.max(start, item.begin);
      const to = Math.min(stop, item.end);
      if (to <= from) continue;
      const bytes = await readTensorBytes(this.#store, item.tensor, from - item.begin, to - item.begin);
      output.set(bytes, from - start);
    }
    return output;
  }

  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    await this.#store.close();
  }

  /** The first tensor whose bytes end after `offset` (binary search: the layout is sorted). */
  #firstEndingAfter(offset: number): number {
    let low = 0;
    let high = this.#laidOut.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.#laidOut[middle]!.end <= offset) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
