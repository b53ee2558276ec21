/**
 * NumPy scalars as Lightning and A1111 checkpoints sometimes hold them (a `best_model_score` saved
 * as `numpy.float64`): `numpy.core.multiarray.scalar(numpy.dtype("f8", False, True), raw bytes)`,
 * the dtype's byte order set by BUILD. Read into plain numbers; nothing of NumPy is needed.
 *
 * @module
 */

import { TorchCheckpointError } from "../errors.ts";
import { normalizeInt } from "./pickle_reader.ts";
import { describePy, NumpyDtype, PyTuple, type PyValue } from "./py_values.ts";

/** Element codes `numpy.dtype(code, …)` accepts here, with their sizes. */
const NUMPY_CODES: Record<string, number> = { f8: 8, f4: 4, f2: 2, i8: 8, i4: 4, i2: 2, i1: 1, u8: 8, u4: 4, u2: 2, u1: 1, b1: 1 };

/** `numpy.dtype(code, align, copy)` for the scalar codes above. */
export function numpyDtype(args: PyValue[], name: string): NumpyDtype {
  const code = args[0];
  if (typeof code !== "string" || !(code in NUMPY_CODES)) {
    throw new TorchCheckpointError(
      "forbidden_call",
      `Cannot call ${name}: dtype ${describePy(code ?? null)} is not a numeric scalar type (f2/f4/f8, i1–i8, u1–u8, b1)`,
      { globalName: name },
    );
  }
  return new NumpyDtype(code);
}

/** BUILD on a dtype: `(version, byte order, …)`; only little-endian and "not applicable" are read. */
export function setNumpyDtypeState(dtype: NumpyDtype, state: PyValue): void {
  const order = state instanceof PyTuple ? state.items[1] : undefined;
  if (order !== "<" && order !== "|" && order !== "=") {
    throw new TorchCheckpointError(
      "unsupported_format",
      `Cannot read a numpy ${dtype.code} scalar: byte order ${describePy(order ?? null)}, only little-endian is read`,
    );
  }
}

/** `numpy.core.multiarray.scalar(dtype, bytes)` → a number (bigint beyond 2^53), or a bool. */
export function numpyScalar(args: PyValue[], name: string): PyValue {
  const [dtype, bytes] = args;
  if (!(dtype instanceof NumpyDtype) || !(bytes instanceof Uint8Array) || args.length !== 2) {
    throw new TorchCheckpointError("forbidden_call", `Cannot call ${name}: only ${name}(numpy.dtype, bytes) of a numeric scalar is read`, {
      globalName: name,
    });
  }
  if (bytes.length !== NUMPY_CODES[dtype.code])
    throw new TorchCheckpointError("corrupt_pickle", `Cannot read a numpy ${dtype.code} scalar from ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype.code) {
    case "f8":
      return view.getFloat64(0, true);
    case "f4":
      return view.getFloat32(0, true);
    case "f2":
      return halfToNumber(view.getUint16(0, true));
    case "i8":
      return normalizeInt(view.getBigInt64(0, true));
    case "u8":
      return normalizeInt(view.getBigUint64(0, true));
    case "i4":
      return view.getInt32(0, true);
    case "u4":
      return view.getUint32(0, true);
    case "i2":
      return view.getInt16(0, true);
    case "u2":
      return view.getUint16(0, true);
    case "i1":
      return view.getInt8(0);
    case "u1":
      return view.getUint8(0);
    default:
      return view.getUint8(0) !== 0;
  }
}

function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}
