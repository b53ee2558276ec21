/**
 * The allow-list: the only Python globals a checkpoint's pickle may name, and what each one
 * means here. Every entry builds plain data (a dict, a tuple, a tensor view of a storage);
 * none runs anything. Any other name is refused when the pickle asks for it.
 *
 * @module
 */

import { dtypeByteSize, type DType } from "@spo/safetensors";
import { TorchCheckpointError } from "../errors.ts";
import { numpyDtype, numpyScalar } from "./numpy_scalars.ts";
import { describePy, PyDict, PyGlobal, PyList, PySet, PyTuple, type PyValue, StorageRef, TensorRef, TorchDtype } from "./py_values.ts";

/** What an allow-listed global is. */
export type GlobalDef =
  /** A function the pickle may call with REDUCE: here a pure function of its arguments. */
  | { kind: "function"; call(args: PyValue[], name: string): PyValue }
  /** A class whose instances are plain dicts (OrderedDict, argparse.Namespace); BUILD merges a state dict. */
  | { kind: "dictClass" }
  /** A class whose instances are sets. */
  | { kind: "setClass" }
  /** A storage class or a dtype object, usable only as a value. */
  | { kind: "dtype"; dtype: DType }
  /** A name usable only as a value (a dict key, a type argument), never called. */
  | { kind: "marker" };

const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: "F32",
  DoubleStorage: "F64",
  HalfStorage: "F16",
  BFloat16Storage: "BF16",
  LongStorage: "I64",
  IntStorage: "I32",
  ShortStorage: "I16",
  CharStorage: "I8",
  ByteStorage: "U8",
  BoolStorage: "BOOL",
  UntypedStorage: "U8",
};

const TORCH_DTYPES: Record<string, DType> = {
  float32: "F32",
  float: "F32",
  float64: "F64",
  double: "F64",
  float16: "F16",
  half: "F16",
  bfloat16: "BF16",
  int64: "I64",
  long: "I64",
  int32: "I32",
  int: "I32",
  int16: "I16",
  short: "I16",
  int8: "I8",
  uint8: "U8",
  uint16: "U16",
  uint32: "U32",
  uint64: "U64",
  bool: "BOOL",
  float8_e4m3fn: "F8_E4M3",
  float8_e5m2: "F8_E5M2",
};

function invalidTensor(problem: string): TorchCheckpointError {
  return new TorchCheckpointError("invalid_tensor", `Cannot rebuild a tensor: ${problem}`);
}

function asInt(value: PyValue | undefined, what: string): number {
  const number = typeof value === "bigint" ? Number(value) : value;
  if (typeof number !== "number" || !Number.isSafeInteger(number) || number < 0) {
    throw invalidTensor(`${what} is ${describePy(value)}, expected a non-negative integer below 2^53`);
  }
  return number;
}

function asIntTuple(value: PyValue | undefined, what: string): number[] {
  if (!(value instanceof PyTuple) && !(value instanceof PyList))
    throw invalidTensor(`${what} is ${describePy(value)}, expected a tuple of integers`);
  return value.items.map((item, index) => asInt(item, `${what}[${index}]`));
}

function checkArgCount(args: PyValue[], min: number, max: number, name: string): void {
  if (args.length < min || args.length > max) {
    const expected = min === max ? `${min}` : `${min} to ${max}`;
    throw new TorchCheckpointError("corrupt_pickle", `Cannot call ${name}: got ${args.length} arguments, expected ${expected}`);
  }
}

/** The element count of a shape, refused when it passes 2^53. */
export function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const size of shape) {
    count *= size;
    if (!Number.isSafeInteger(count)) throw invalidTensor(`shape [${shape.join(", ")}] has more than 2^53 elements`);
  }
  return count;
}

/**
 * A view of `storage` as `dtype` (its own dtype unless `_rebuild_tensor_v3` says otherwise):
 * shape and strides of the same rank, every element inside the storage.
 */
function rebuildTensor(args: PyValue[], dtypeArg: PyValue | undefined, requiresGrad: boolean): TensorRef {
  const [storage, offsetArg, sizeArg, strideArg] = args;
  if (!(storage instanceof StorageRef)) throw invalidTensor(`its storage is ${describePy(storage)}, expected a storage record`);
  let dtype = storage.dtype;
  let storageElements = storage.numel;
  if (dtypeArg !== undefined && dtypeArg !== null) {
    if (!(dtypeArg instanceof TorchDtype)) throw invalidTensor(`its dtype is ${describePy(dtypeArg)}, expected a torch dtype`);
    dtype = dtypeArg.dtype;
    storageElements = Math.floor((storage.numel * dtypeByteSize(storage.dtype)) / dtypeByteSize(dtype));
  }
  const offset = asInt(offsetArg, "the storage offset");
  const shape = asIntTuple(sizeArg, "the size");
  const strides = asIntTuple(strideArg, "the stride");
  if (shape.length !== strides.length)
    throw invalidTensor(`size [${shape.join(", ")}] and stride [${strides.join(", ")}] differ in length`);
  const count = elementCount(shape);
  if (count > 0) {
    let last = offset;
    shape.forEach((size, axis) => {
      last += (size - 1) * strides[axis]!;
    });
    if (!Number.isSafeInteger(last) || last >= storageElements) {
      throw invalidTensor(
        `size [${shape.join(", ")}], stride [${strides.join(", ")}] and offset ${offset} reach element ${last}, ` +
          `but storage "${storage.key}" holds ${storageElements} elements of ${dtype}`,
      );
    }
  }
  return new TensorRef(storage, dtype, offset, shape, strides, requiresGrad, false);
}

const rebuildTensorV2: GlobalDef = {
  kind: "function",
  call(args, name) {
    checkArgCount(args, 4, 7, name);
    return rebuildTensor(args, undefined, args[4] === true);
  },
};

const rebuildTensorV3: GlobalDef = {
  kind: "function",
  call(args, name) {
    checkArgCount(args, 7, 8, name);
    return rebuildTensor(args, args[6], args[4] === true);
  },
};

const rebuildParameter: GlobalDef = {
  kind: "function",
  call(args, name) {
    checkArgCount(args, 3, 4, name);
    const data = args[0];
    if (!(data instanceof TensorRef)) throw invalidTensor(`the data of a Parameter is ${describePy(data)}, expected a tensor`);
    return new TensorRef(data.storage, data.dtype, data.storageOffset, data.shape, data.strides, args[1] === true, true);
  },
};

/** `_rebuild_from_type_v2(func, type, args, state)`: a plain Tensor or Parameter rebuilt by an allowed function. */
const rebuildFromTypeV2: GlobalDef = {
  kind: "function",
  call(args, name) {
    checkArgCount(args, 4, 4, name);
    const [func, type, funcArgs] = args;
    const isTensorType = type instanceof PyGlobal && (type.name === "torch.Tensor" || type.name === "torch.nn.parameter.Parameter");
    if (!isTensorType)
      throw new TorchCheckpointError(
        "forbidden_call",
        `Cannot call ${name}: the type is ${describePy(type ?? null)}, expected torch.Tensor or torch.nn.parameter.Parameter`,
      );
    if (!(func instanceof PyGlobal) || func.def.kind !== "function") {
      throw new TorchCheckpointError(
        "forbidden_call",
        `Cannot call ${name}: its function is ${describePy(func ?? null)}, expected an allowed rebuild function`,
      );
    }
    if (!(funcArgs instanceof PyTuple))
      throw new TorchCheckpointError(
        "corrupt_pickle",
        `Cannot call ${name}: its arguments are ${describePy(funcArgs ?? null)}, expected a tuple`,
      );
    return func.def.call(funcArgs.items, func.name);
  },
};

const orderedDictCall: GlobalDef = { kind: "dictClass" };

const torchSize: GlobalDef = {
  kind: "function",
  call(args, name) {
    checkArgCount(args, 0, 1, name);
    const items = args[0];
    if (items === undefined) return new PyTuple([]);
    if (!(items instanceof PyTuple) && !(items instanceof PyList))
      throw new TorchCheckpointError("corrupt_pickle", `Cannot call ${name}: got ${describePy(items)}, expected a tuple`);
    return new PyTuple([...items.items]);
  },
};

const torchDevice: GlobalDef = {
  kind: "function",
  call(args, name) {
    checkArgCount(args, 1, 2, name);
    const [type, index] = args;
    if (typeof type !== "string")
      throw new TorchCheckpointError("corrupt_pickle", `Cannot call ${name}: got ${describePy(type)}, expected a device string`);
    return index === undefined || index === null ? type : `${type}:${String(index)}`;
  },
};

/** `_codecs.encode(text, "latin1")`: how protocol 2 pickles `bytes`. */
const codecsEncode: GlobalDef = {
  kind: "function",
  call(args, name) {
    checkArgCount(args, 1, 2, name);
    const [text, encoding] = args;
    const isLatin1 = encoding === undefined || encoding === "latin1" || encoding === "latin-1" || encoding === "iso-8859-1";
    if (typeof text !== "string" || !isLatin1) {
      throw new TorchCheckpointError(
        "forbidden_call",
        `Cannot call ${name}: only ${name}(str, "latin1") is read, got ${describePy(text)} and ${describePy(encoding ?? null)}`,
      );
    }
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code > 0xff)
        throw new TorchCheckpointError(
          "corrupt_pickle",
          `Cannot call ${name}: the text has a character above U+00FF, which latin1 cannot encode`,
        );
      bytes[i] = code;
    }
    return bytes;
  },
};

const setCall: GlobalDef = { kind: "setClass" };

function entriesFor(table: Record<string, DType>, module: string): [string, GlobalDef][] {
  return Object.entries(table).map(([name, dtype]) => [`${module}.${name}`, { kind: "dtype", dtype }]);
}

/**
 * Every allowed global by dotted name (Python 3 module names). A pickle naming anything else is
 * refused with a `forbidden_global` error.
 *
 * @example
 * ```ts
 * import { ALLOWED_GLOBALS } from "@spo/torch-checkpoint";
 * console.log(ALLOWED_GLOBALS.has("torch._utils._rebuild_tensor_v2"), ALLOWED_GLOBALS.has("posix.system")); // true false
 * ```
 */
export const ALLOWED_GLOBALS: ReadonlyMap<string, GlobalDef> = new Map<string, GlobalDef>([
  ["collections.OrderedDict", orderedDictCall],
  ["builtins.dict", orderedDictCall],
  ["argparse.Namespace", { kind: "dictClass" }],
  ["pytorch_lightning.utilities.parsing.AttributeDict", { kind: "dictClass" }],
  ["lightning.fabric.utilities.data.AttributeDict", { kind: "dictClass" }],
  ["builtins.set", setCall],
  ["builtins.frozenset", setCall],
  [
    "torch._utils._rebuild_tensor",
    { kind: "function", call: (args, name) => (checkArgCount(args, 4, 4, name), rebuildTensor(args, undefined, false)) },
  ],
  ["torch._utils._rebuild_tensor_v2", rebuildTensorV2],
  ["torch._utils._rebuild_tensor_v3", rebuildTensorV3],
  ["torch._utils._rebuild_parameter", rebuildParameter],
  ["torch._utils._rebuild_parameter_with_state", rebuildParameter],
  ["torch._tensor._rebuild_from_type_v2", rebuildFromTypeV2],
  ["torch.Size", torchSize],
  ["torch.device", torchDevice],
  ["_codecs.encode", codecsEncode],
  ["numpy.dtype", { kind: "function", call: numpyDtype }],
  ["numpy.core.multiarray.scalar", { kind: "function", call: numpyScalar }],
  ["numpy._core.multiarray.scalar", { kind: "function", call: numpyScalar }],
  ["torch.Tensor", { kind: "marker" }],
  ["torch.nn.parameter.Parameter", { kind: "marker" }],
  ["pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint", { kind: "marker" }],
  ["lightning.pytorch.callbacks.model_checkpoint.ModelCheckpoint", { kind: "marker" }],
  ...entriesFor(STORAGE_DTYPES, "torch"),
  ...entriesFor(STORAGE_DTYPES, "torch.storage"),
  ...entriesFor(TORCH_DTYPES, "torch"),
]);

/** Python 2 module names that Python 3's unpickler maps to their new names (`fix_imports`). */
const PYTHON2_MODULES: Record<string, string> = { __builtin__: "builtins", copy_reg: "copyreg" };

/** The dotted Python 3 name of `module` + `name` (`__builtin__`, `eval` → `builtins.eval`). */
export function dottedName(module: string, name: string): string {
  return `${PYTHON2_MODULES[module] ?? module}.${name}`;
}

/** What to tell the user about a refused global. */
function refusalAdvice(name: string): string {
  if (name.startsWith("torch.nn.")) {
    return "the file holds a pickled model object, not a state dict; in PyTorch, load it and save `model.state_dict()` (or save it as safetensors)";
  }
  return "loading the file with torch.load would call or rebuild it; only state dicts of tensors, numbers, strings and containers are read";
}

/** The definition of an allowed global, or a `forbidden_global` error naming it. */
export function resolveGlobal(module: string, name: string): PyGlobal | TorchDtype {
  const dotted = dottedName(module, name);
  const def = ALLOWED_GLOBALS.get(dotted);
  if (def === undefined) {
    throw new TorchCheckpointError(
      "forbidden_global",
      `Cannot load the checkpoint: its pickle refers to ${dotted}, which is not on the allow-list: ${refusalAdvice(dotted)}`,
      {
        globalName: dotted,
      },
    );
  }
  if (def.kind === "dtype") return new TorchDtype(def.dtype, dotted);
  return new PyGlobal(dotted, def);
}

/** Calls an allowed global with REDUCE / NEWOBJ semantics, or refuses naming it. */
export function callGlobal(callable: PyValue, args: PyValue[]): PyValue {
  if (!(callable instanceof PyGlobal)) {
    const globalName = callable instanceof TorchDtype ? callable.name : undefined;
    throw new TorchCheckpointError("forbidden_call", `Cannot call ${describePy(callable)}: only allow-listed functions are called`, {
      globalName,
    });
  }
  const def = callable.def;
  if (def.kind === "function") return def.call(args, callable.name);
  if (def.kind === "dictClass") return dictFromArgs(args, callable.name);
  if (def.kind === "setClass") return setFromArgs(args, callable.name);
  throw new TorchCheckpointError("forbidden_call", `Cannot call ${callable.name}: it may be named in a checkpoint but not called`, {
    globalName: callable.name,
  });
}

function dictFromArgs(args: PyValue[], name: string): PyDict {
  const dict = new PyDict();
  if (args.length === 0) return dict;
  const items = args[0];
  const isPairs = args.length === 1 && (items instanceof PyList || items instanceof PyTuple);
  if (!isPairs)
    throw new TorchCheckpointError("forbidden_call", `Cannot call ${name}: only ${name}() and ${name}([(key, value), ...]) are read`, {
      globalName: name,
    });
  for (const pair of (items as PyList | PyTuple).items) {
    const isPair = (pair instanceof PyTuple || pair instanceof PyList) && pair.items.length === 2;
    if (!isPair)
      throw new TorchCheckpointError("corrupt_pickle", `Cannot call ${name}: an item is ${describePy(pair)}, expected a (key, value) pair`);
    dict.set(pair.items[0]!, pair.items[1]!);
  }
  return dict;
}

function setFromArgs(args: PyValue[], name: string): PySet {
  if (args.length === 0) return new PySet();
  const items = args[0];
  if (args.length === 1 && (items instanceof PyList || items instanceof PyTuple || items instanceof PySet))
    return new PySet([...items.items]);
  throw new TorchCheckpointError("forbidden_call", `Cannot call ${name}: only ${name}() and ${name}([items]) are read`, {
    globalName: name,
  });
}
