/**
 * Flattening what a checkpoint's pickle built into key paths: nested dict keys and list or
 * tuple indices joined by `/` (`state_dict/model.diffusion_model.out.2.weight`, `flags/1`),
 * tensors on one side, plain leaves (numbers, strings, booleans, None, bytes) on the other.
 *
 * @module
 */

import { TorchCheckpointError } from "./errors.ts";
import {
  describePy,
  NumpyDtype,
  PyDict,
  PyGlobal,
  PyList,
  PySet,
  PyTuple,
  type PyValue,
  StorageRef,
  TensorRef,
  TorchDtype,
} from "./pickle/py_values.ts";

/** A non-tensor leaf of a checkpoint: ints beyond 2^53 come as bigint, Python bytes as Uint8Array. */
export type PlainValue = null | boolean | number | bigint | string | Uint8Array;

/** What a checkpoint holds, by key path. */
export interface FlatCheckpoint {
  /** Tensors (storages saved on their own count as 1-D tensors), in pickle order. */
  tensors: [string, TensorRef][];
  /** Every other leaf. */
  values: Map<string, PlainValue>;
}

/** Nesting deeper than this is refused (no real checkpoint comes close). */
export const MAX_NESTING_DEPTH = 512;

function keyText(key: PyValue, depth = 0): string {
  if (depth > MAX_NESTING_DEPTH)
    throw new TorchCheckpointError(
      "limit_exceeded",
      `Cannot flatten the checkpoint: a dict key is a tuple nested more than ${MAX_NESTING_DEPTH} deep`,
    );
  if (typeof key === "string") return key;
  if (typeof key === "number" || typeof key === "bigint") return String(key);
  if (typeof key === "boolean") return key ? "True" : "False";
  if (key === null) return "None";
  if (key instanceof PyGlobal || key instanceof TorchDtype) return key.name;
  if (key instanceof PyTuple) return `(${key.items.map((item) => keyText(item, depth + 1)).join(", ")})`;
  throw new TorchCheckpointError(
    "corrupt_pickle",
    "Cannot flatten the checkpoint: a dict key is not a str, number, bool, None, global or tuple of those",
  );
}

/**
 * Walks the value depth first, at most {@link MAX_NESTING_DEPTH} deep: cycles and deeper nesting
 * are refused, and so is a walk longer than `maxVisits` (shared sub-containers could otherwise
 * multiply the paths exponentially).
 */
export function flattenCheckpoint(root: PyValue, maxVisits: number): FlatCheckpoint {
  const flat: FlatCheckpoint = { tensors: [], values: new Map() };
  const onPath = new Set<PyValue>();
  const seen = new Set<string>();
  let visits = 0;
  const visit = (value: PyValue, path: string, depth: number): void => {
    if (++visits > maxVisits) {
      throw new TorchCheckpointError(
        "limit_exceeded",
        `Cannot flatten the checkpoint: it has more than ${maxVisits} entries, far more than its pickle's size allows without sharing`,
      );
    }
    if (depth > MAX_NESTING_DEPTH)
      throw new TorchCheckpointError(
        "limit_exceeded",
        `Cannot flatten the checkpoint: "${path}" is nested more than ${MAX_NESTING_DEPTH} deep`,
      );
    const children = childrenOf(value);
    if (children === undefined) {
      if (seen.has(path))
        throw new TorchCheckpointError("corrupt_pickle", `Cannot flatten the checkpoint: two entries have the key path "${path}"`);
      seen.add(path);
    }
    if (value instanceof TensorRef) {
      flat.tensors.push([path, value]);
      return;
    }
    if (value instanceof StorageRef) {
      flat.tensors.push([path, new TensorRef(value, value.dtype, 0, [value.numel], [1], false, false)]);
      return;
    }
    if (children === undefined) {
      flat.values.set(path, plainOf(value));
      return;
    }
    if (onPath.has(value)) throw new TorchCheckpointError("corrupt_pickle", `Cannot flatten the checkpoint: "${path}" contains itself`);
    onPath.add(value);
    for (const [key, child] of children) visit(child, path === "" ? key : `${path}/${key}`, depth + 1);
    onPath.delete(value);
  };
  visit(root, "", 0);
  return flat;
}

function childrenOf(value: PyValue): Iterable<[string, PyValue]> | undefined {
  if (value instanceof PyDict) return [...value.entries()].map(([key, child]) => [keyText(key), child]);
  if (value instanceof PyList || value instanceof PyTuple || value instanceof PySet)
    return value.items.map((child, index) => [String(index), child]);
  return undefined;
}

function plainOf(value: PyValue): PlainValue {
  if (value instanceof PyGlobal || value instanceof TorchDtype) return value.name;
  if (value instanceof NumpyDtype) return describePy(value);
  return value as PlainValue;
}
