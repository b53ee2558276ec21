/**
 * Writing safetensors files, laid out exactly as the reference Rust library lays them out.
 *
 * Layout: tensors sorted by dtype alignment, largest first (the order of `DTYPES`, reversed), then
 * by name in code point order (the byte order of their UTF-8, as Rust sorts strings); packed
 * back to back; the header JSON is compact, `__metadata__` first with its keys sorted, then the
 * tensors in file order, each as `{"dtype", "shape", "data_offsets"}`, padded with spaces to a
 * multiple of 8 bytes. So every tensor starts at a multiple of its element size.
 *
 * @module
 */

import { dtypeByteSize, dtypeRank, isDType, type DType } from "./dtype.ts";
import { SafetensorsError } from "./errors.ts";
import { HEADER_BYTE_LENGTH_LIMIT, LENGTH_FIELD_BYTES } from "./header.ts";
import { typedArrayClassOf } from "./typed_array.ts";
import { IS_LITTLE_ENDIAN, swapBytes } from "./_endian.ts";

/**
 * A tensor to write: `data` holds its elements either as raw little-endian bytes (`Uint8Array`)
 * or as the typed array of its dtype (`Float32Array` for F32, `Uint16Array` for F16/BF16 bits,
 * `BigInt64Array` for I64, ...; see `TypedArrayByDType`).
 */
export interface TensorInput {
  dtype: DType;
  shape: readonly number[];
  data: ArrayBufferView;
}

/** Tensors to write, by name: a plain object or a Map (such as `parseSafetensors(...).tensors`). */
export type TensorsInput = Readonly<Record<string, TensorInput>> | ReadonlyMap<string, TensorInput>;

/** A checked, ordered plan of a file: the header (length field included) and the tensor bytes. */
export interface SafetensorsLayout {
  /** The 8-byte length field followed by the padded header JSON. */
  head: Uint8Array;
  /** Each tensor's little-endian bytes, in file order. */
  chunks: { name: string; bytes: Uint8Array }[];
  /** The size of the whole file. */
  byteLength: number;
}

const WRITE_ACTION = "Cannot serialize safetensors";
const METADATA_KEY = "__metadata__";
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function tensorError(name: string, problem: string): SafetensorsError {
  return new SafetensorsError("invalid_tensor", `${WRITE_ACTION}: tensor "${name}" ${problem}`, { tensorName: name });
}

/** Compares strings by code point, which is the byte order of their UTF-8 (Rust's `Ord` for `String`). */
export function compareCodePoints(left: string, right: string): number {
  let leftIndex = 0;
  let rightIndex = 0;
  while (leftIndex < left.length && rightIndex < right.length) {
    const leftPoint = left.codePointAt(leftIndex)!;
    const rightPoint = right.codePointAt(rightIndex)!;
    if (leftPoint !== rightPoint) return leftPoint - rightPoint;
    leftIndex += leftPoint > 0xffff ? 2 : 1;
    rightIndex += rightPoint > 0xffff ? 2 : 1;
  }
  return left.length - leftIndex - (right.length - rightIndex);
}

function checkText(text: string, what: string): void {
  if (LONE_SURROGATE.test(text)) {
    throw new SafetensorsError(
      "invalid_tensor",
      `${WRITE_ACTION}: ${what} ${JSON.stringify(text)} has a lone UTF-16 surrogate, expected text that UTF-8 can encode`,
    );
  }
}

/** The tensor's bytes, little-endian, checked against its dtype and shape. */
function bytesOf(name: string, tensor: TensorInput): Uint8Array {
  if (typeof tensor !== "object" || tensor === null) throw tensorError(name, `is ${String(tensor)}, expected {dtype, shape, data}`);
  const { dtype, shape, data } = tensor;
  if (!isDType(dtype)) throw tensorError(name, `has dtype ${JSON.stringify(dtype)}, expected a safetensors dtype such as "F32"`);
  const isShape = Array.isArray(shape) && shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0);
  if (!isShape) throw tensorError(name, `has shape ${JSON.stringify(shape)}, expected an array of non-negative integers`);
  if (!ArrayBuffer.isView(data)) throw tensorError(name, `has data ${Object.prototype.toString.call(data)}, expected a typed array`);
  const isRaw = data instanceof Uint8Array || data instanceof Uint8ClampedArray || data instanceof DataView;
  const Class = typedArrayClassOf(dtype);
  if (!isRaw && !(data instanceof Class)) {
    throw tensorError(name, `has data ${data.constructor.name} for dtype ${dtype}, expected a ${Class.name} or a Uint8Array of raw bytes`);
  }
  const elementSize = dtypeByteSize(dtype);
  const expected = shape.reduce((product, dim) => product * dim, elementSize);
  if (data.byteLength !== expected) {
    throw tensorError(name, `has ${data.byteLength} bytes of data, expected ${expected} for shape [${shape.join(", ")}] of ${dtype}`);
  }
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (!isRaw && !IS_LITTLE_ENDIAN && elementSize > 1) return swapBytes(bytes, elementSize);
  return bytes;
}

function metadataJson(metadata: Readonly<Record<string, string>>): string {
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
    throw new SafetensorsError(
      "invalid_metadata",
      `${WRITE_ACTION}: metadata is ${JSON.stringify(metadata)}, expected an object of strings`,
    );
  }
  const keys = Object.keys(metadata).sort(compareCodePoints);
  const parts: string[] = [];
  for (const key of keys) {
    const value: unknown = metadata[key];
    if (typeof value !== "string") {
      throw new SafetensorsError("invalid_metadata", `${WRITE_ACTION}: metadata "${key}" is ${typeof value}, expected a string`);
    }
    checkText(key, "metadata key");
    checkText(value, "metadata value");
    parts.push(`${JSON.stringify(key)}:${JSON.stringify(value)}`);
  }
  return `{${parts.join(",")}}`;
}

interface Entry {
  name: string;
  dtype: DType;
  shape: readonly number[];
  bytes: Uint8Array;
}

function entriesOf(tensors: TensorsInput): Entry[] {
  const pairs = tensors instanceof Map ? [...tensors] : Object.entries(tensors as Record<string, TensorInput>);
  const entries: Entry[] = [];
  for (const [name, tensor] of pairs) {
    if (typeof name !== "string")
      throw new SafetensorsError("invalid_tensor", `${WRITE_ACTION}: a name is ${typeof name}, expected a string`);
    if (name === METADATA_KEY) throw tensorError(name, "uses the name reserved for metadata, expected another name");
    checkText(name, "tensor name");
    entries.push({ name, dtype: tensor?.dtype, shape: tensor?.shape, bytes: bytesOf(name, tensor) });
  }
  entries.sort((left, right) => dtypeRank(right.dtype) - dtypeRank(left.dtype) || compareCodePoints(left.name, right.name));
  return entries;
}

function encodeHead(json: string): Uint8Array {
  const text = new TextEncoder().encode(json);
  const padded = Math.ceil(text.length / 8) * 8;
  if (padded > HEADER_BYTE_LENGTH_LIMIT) {
    throw new SafetensorsError(
      "header_too_large",
      `${WRITE_ACTION}: header is ${padded} bytes, above the ${HEADER_BYTE_LENGTH_LIMIT}-byte limit readers accept`,
    );
  }
  const head = new Uint8Array(LENGTH_FIELD_BYTES + padded).fill(0x20, LENGTH_FIELD_BYTES + text.length);
  new DataView(head.buffer).setBigUint64(0, BigInt(padded), true);
  head.set(text, LENGTH_FIELD_BYTES);
  return head;
}

/**
 * Checks tensors and metadata and plans the file: header bytes and tensor chunks in order.
 * `serializeSafetensors` joins them; `writeSafetensorsFile` streams them to disk.
 *
 * @example
 * ```ts
 * import { layoutSafetensors } from "@spo/safetensors";
 * const layout = layoutSafetensors({ b: { dtype: "U8", shape: [1], data: new Uint8Array([7]) } }, {});
 * console.log(layout.head.length % 8, layout.chunks.length, layout.byteLength); // 0 1 81
 * ```
 */
export function layoutSafetensors(tensors: TensorsInput, metadata?: Readonly<Record<string, string>>): SafetensorsLayout {
  const entries = entriesOf(tensors);
  const parts: string[] = [];
  if (metadata !== undefined) parts.push(`"${METADATA_KEY}":${metadataJson(metadata)}`);
  let offset = 0;
  for (const entry of entries) {
    const end = offset + entry.bytes.length;
    const shape = entry.shape.join(",");
    parts.push(`${JSON.stringify(entry.name)}:{"dtype":"${entry.dtype}","shape":[${shape}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const head = encodeHead(`{${parts.join(",")}}`);
  const chunks = entries.map((entry) => ({ name: entry.name, bytes: entry.bytes }));
  return { head, chunks, byteLength: head.length + offset };
}

/**
 * Writes tensors and optional string metadata as the bytes of a safetensors file.
 *
 * The layout matches the reference Rust writer byte for byte (see the module doc): tensors sorted
 * by dtype alignment then name, header padded with spaces to a multiple of 8. With no metadata
 * argument the file has no `__metadata__` entry. Throws {@link SafetensorsError} (code
 * `invalid_tensor` or `invalid_metadata`) before writing anything if an input is malformed.
 *
 * @example
 * ```ts
 * import { serializeSafetensors } from "@spo/safetensors";
 * const bytes = serializeSafetensors(
 *   { "attn.0": { dtype: "F32", shape: [1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) } },
 * );
 * console.log(bytes.length); // 96: 8 (length) + 64 (header) + 24 (data)
 * ```
 */
export function serializeSafetensors(tensors: TensorsInput, metadata?: Readonly<Record<string, string>>): Uint8Array<ArrayBuffer> {
  const layout = layoutSafetensors(tensors, metadata);
  let file: Uint8Array<ArrayBuffer>;
  try {
    file = new Uint8Array(layout.byteLength);
  } catch (cause) {
    throw new SafetensorsError(
      "invalid_tensor",
      `${WRITE_ACTION}: the file would be ${layout.byteLength} bytes, more than one buffer can hold; write it with writeSafetensorsFile`,
      { cause },
    );
  }
  file.set(layout.head, 0);
  let offset = layout.head.length;
  for (const chunk of layout.chunks) {
    file.set(chunk.bytes, offset);
    offset += chunk.bytes.length;
  }
  return file;
}
