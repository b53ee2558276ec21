/**
 * Writing small PyTorch-layout checkpoints (`torch.save` of a state dict: zip archive, protocol 2
 * pickle, one stored record per tensor) so tests of other packages can feed `.bin` / `.ckpt`
 * files to their loaders. Not a general writer: save real checkpoints as safetensors.
 *
 * @module
 */

import type { TensorInput, TensorsInput } from "@spo/safetensors";
import { crc32 } from "../zip/crc32.ts";
import { OP, PickleBuilder, pickleTensor } from "./pickle_builder.ts";

/** Options of {@link serializeTorchCheckpoint}. */
export interface TorchCheckpointWriteOptions {
  /** Put the tensors under `state_dict`, as an A1111 / Lightning `.ckpt` does (default false: a plain state dict, as `pytorch_model.bin`). */
  wrapInStateDict?: boolean;
  /** Plain top-level entries beside the tensors (`epoch`, `global_step`). */
  values?: Record<string, number | string>;
}

const STORAGE_CLASSES: Record<string, string> = {
  F32: "FloatStorage",
  F64: "DoubleStorage",
  F16: "HalfStorage",
  BF16: "BFloat16Storage",
  I64: "LongStorage",
  I32: "IntStorage",
  I16: "ShortStorage",
  I8: "CharStorage",
  U8: "ByteStorage",
  BOOL: "BoolStorage",
};
const ELEMENT_BYTES: Record<string, number> = { F32: 4, F64: 8, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

function bytesOf(tensor: TensorInput): Uint8Array {
  return new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
}

function le(size: number, value: number): number[] {
  return Array.from({ length: size }, (_, i) => Math.floor(value / 2 ** (8 * i)) & 0xff);
}

/** A zip archive of stored members. */
function storedZip(members: [string, Uint8Array][]): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: number[] = [];
  let offset = 0;
  for (const [name, bytes] of members) {
    const nameBytes = new TextEncoder().encode(name);
    const crc = crc32(bytes);
    const local = [
      ...le(4, 0x04034b50),
      ...le(2, 20),
      ...le(2, 0),
      ...le(2, 0),
      ...le(4, 0),
      ...le(4, crc),
      ...le(4, bytes.length),
      ...le(4, bytes.length),
      ...le(2, nameBytes.length),
      ...le(2, 0),
      ...nameBytes,
    ];
    central.push(
      ...le(4, 0x02014b50),
      ...le(2, 20),
      ...le(2, 20),
      ...le(2, 0),
      ...le(2, 0),
      ...le(4, 0),
      ...le(4, crc),
      ...le(4, bytes.length),
      ...le(4, bytes.length),
    );
    central.push(
      ...le(2, nameBytes.length),
      ...le(2, 0),
      ...le(2, 0),
      ...le(2, 0),
      ...le(2, 0),
      ...le(4, 0),
      ...le(4, offset),
      ...nameBytes,
    );
    parts.push(new Uint8Array(local), bytes);
    offset += local.length + bytes.length;
  }
  const end = [
    ...le(4, 0x06054b50),
    ...le(4, 0),
    ...le(2, members.length),
    ...le(2, members.length),
    ...le(4, central.length),
    ...le(4, offset),
    ...le(2, 0),
  ];
  parts.push(new Uint8Array(central), new Uint8Array(end));
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * The bytes of a `.bin` / `.ckpt` holding `tensors` (one storage each) the way `torch.save`
 * lays out a state dict.
 *
 * @example
 * ```ts
 * import { serializeTorchCheckpoint } from "@spo/torch-checkpoint/testing";
 * const bytes = serializeTorchCheckpoint({ w: { dtype: "F32", shape: [2], data: new Float32Array([1, 2]) } });
 * ```
 */
export function serializeTorchCheckpoint(tensors: TensorsInput, options: TorchCheckpointWriteOptions = {}): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors as Record<string, TensorInput>);
  const builder = new PickleBuilder().op(OP.PROTO, 2, OP.EMPTY_DICT, OP.MARK);
  if (options.wrapInStateDict) builder.str("state_dict").global("collections", "OrderedDict").op(OP.EMPTY_TUPLE, OP.REDUCE, OP.MARK);
  const storages: [string, Uint8Array][] = [];
  entries.forEach(([name, tensor], index) => {
    const storageClass = STORAGE_CLASSES[tensor.dtype];
    if (storageClass === undefined) throw new Error(`Cannot write "${name}": dtype ${tensor.dtype} has no torch storage class here`);
    const bytes = bytesOf(tensor);
    builder.str(name);
    pickleTensor(builder, {
      storageKey: String(index),
      storageClass,
      storageNumel: bytes.length / ELEMENT_BYTES[tensor.dtype]!,
      shape: [...tensor.shape],
    });
    storages.push([`archive/data/${index}`, bytes]);
  });
  if (options.wrapInStateDict) builder.op(OP.SETITEMS);
  for (const [key, value] of Object.entries(options.values ?? {})) {
    builder.str(key);
    if (typeof value === "string") builder.str(value);
    else if (Number.isInteger(value)) builder.int(value);
    else builder.float(value);
  }
  const pickle = builder.op(OP.SETITEMS, OP.STOP).build();
  return storedZip([["archive/data.pkl", pickle], ...storages, ["archive/version", new TextEncoder().encode("3\n")]]);
}
