/**
 * The values the pickle machine builds: Python's plain data (None, bools, ints, floats, strings,
 * bytes, tuples, lists, dicts, sets), references to allow-listed globals, and the storages and
 * tensors of a checkpoint. Nothing here can run code.
 *
 * @module
 */

import type { DType } from "@spo/safetensors";
import type { GlobalDef } from "./allowed_globals.ts";

/** A Python tuple. */
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

/** A Python list. */
export class PyList {
  constructor(readonly items: PyValue[] = []) {}
}

/** A Python set or frozenset (kept in insertion order). */
export class PySet {
  constructor(readonly items: PyValue[] = []) {}
}

/**
 * A Python dict (also OrderedDict and dict-like classes): insertion-ordered, keys compared as
 * Python would for str, int, float, bool and None; other keys by identity.
 */
export class PyDict {
  readonly #entries = new Map<unknown, [PyValue, PyValue]>();

  set(key: PyValue, value: PyValue): void {
    this.#entries.set(dictKeyOf(key), [key, value]);
  }

  get(key: PyValue): PyValue | undefined {
    return this.#entries.get(dictKeyOf(key))?.[1];
  }

  get size(): number {
    return this.#entries.size;
  }

  entries(): IterableIterator<[PyValue, PyValue]> {
    return this.#entries.values();
  }
}

function dictKeyOf(key: PyValue): unknown {
  if (typeof key === "bigint" && key >= BigInt(Number.MIN_SAFE_INTEGER) && key <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(key);
  if (typeof key === "boolean") return key ? 1 : 0;
  return key;
}

/** A reference to an allow-listed Python global (`collections.OrderedDict`, `torch.FloatStorage`). */
export class PyGlobal {
  constructor(
    /** The dotted name, with Python 2 module names mapped to Python 3 ones (`builtins.set`). */
    readonly name: string,
    readonly def: GlobalDef,
  ) {}
}

/** A torch dtype object (`torch.float16`) or a typed storage class (`torch.HalfStorage`), as a safetensors dtype. */
export class TorchDtype {
  constructor(
    readonly dtype: DType,
    readonly name: string,
  ) {}
}

/** A NumPy scalar dtype (`numpy.dtype("f8")`), only as the first argument of a NumPy scalar. */
export class NumpyDtype {
  constructor(readonly code: string) {}
}

/** A storage a persistent id refers to: a zip record or a legacy storage, with its element type and count. */
export class StorageRef {
  constructor(
    /** The record key (`data/<key>` in a zip checkpoint). */
    readonly key: string,
    readonly dtype: DType,
    /** Elements of `dtype` it holds, as the pickle declares. */
    readonly numel: number,
    /** Where a legacy storage view starts in its root storage, in elements (0 otherwise). */
    readonly elementOffset: number = 0,
  ) {}
}

/** A tensor as the pickle rebuilds it: a view of a storage. Its bytes are read only when asked. */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly dtype: DType,
    /** In elements of `dtype`, from the start of the storage. */
    readonly storageOffset: number,
    readonly shape: readonly number[],
    readonly strides: readonly number[],
    readonly requiresGrad: boolean,
    readonly isParameter: boolean,
  ) {}
}

/** Any value the pickle machine can hold. */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyTuple
  | PyList
  | PySet
  | PyDict
  | PyGlobal
  | TorchDtype
  | NumpyDtype
  | StorageRef
  | TensorRef;

/** A short description of a value for error messages (`a tuple of 3`, `str`). */
export function describePy(value: PyValue | undefined): string {
  if (value === undefined) return "nothing";
  if (value === null) return "None";
  if (typeof value === "boolean") return "a bool";
  if (typeof value === "number") return Number.isInteger(value) ? `the int ${value}` : `the float ${value}`;
  if (typeof value === "bigint") return `the int ${value}`;
  if (typeof value === "string") return "a str";
  if (value instanceof Uint8Array) return "bytes";
  if (value instanceof PyTuple) return `a tuple of ${value.items.length}`;
  if (value instanceof PyList) return `a list of ${value.items.length}`;
  if (value instanceof PySet) return "a set";
  if (value instanceof PyDict) return "a dict";
  if (value instanceof PyGlobal) return value.name;
  if (value instanceof TorchDtype) return value.name;
  if (value instanceof NumpyDtype) return `numpy.dtype("${value.code}")`;
  if (value instanceof StorageRef) return "a storage";
  return "a tensor";
}
