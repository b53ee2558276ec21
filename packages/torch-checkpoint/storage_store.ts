/**
 * Where storages' bytes come from: zip records or the legacy format's sequential storages.
 *
 * @module
 */

import type { StorageRef } from "./pickle/py_values.ts";

/** Reads byte ranges of the storages a checkpoint's pickle refers to. */
export interface StorageStore {
  /** Bytes `[start, end)` of a storage, counted from the storage's own first byte (its view offset included). */
  read(storage: StorageRef, start: number, end: number): Promise<Uint8Array>;
  /** How many bytes a storage really holds (at least what the pickle declared; checked when it was loaded). */
  byteLength(storage: StorageRef): number;
  close(): Promise<void>;
}
