/**
 * Reading and validating a safetensors header: the one place every reader (bytes in memory,
 * files, URLs, blobs) checks a header, so they accept and reject exactly the same files.
 *
 * Layout: an 8-byte little-endian length N, N bytes of UTF-8 JSON, then the data area. The JSON
 * maps tensor names to `{dtype, shape, data_offsets}` (offsets relative to the data area) and may
 * hold a `__metadata__` map of strings. The rules follow the reference Rust library: N is at most
 * 100 000 000, the text starts with `{`, names are unique, each byte range matches its shape and
 * dtype, and the ranges cover the data area from 0 to its end with no holes and no overlaps. Like
 * serde_json there, nesting is limited to 128 levels and dims and offsets are digits only.
 *
 * @module
 */

import { dtypeByteSize, DTYPES, isDType, type DType } from "./dtype.ts";
import { SafetensorsError } from "./errors.ts";
import { depthBeyond, findDuplicateKey, findNonDigitCount, MAX_JSON_DEPTH } from "./_json_scan.ts";

/** The largest header length readers accept, in bytes (the reference library's limit). */
export const HEADER_BYTE_LENGTH_LIMIT = 100_000_000;

/** Bytes in front of the header: its length as a little-endian u64. */
export const LENGTH_FIELD_BYTES = 8;

/** One tensor entry of a header. */
export interface TensorInfo {
  /** The tensor's name (the header key). */
  readonly name: string;
  /** Its element type. */
  readonly dtype: DType;
  /** Its dimensions, row-major; `[]` is a scalar. */
  readonly shape: readonly number[];
  /** `[begin, end)` of its bytes, relative to the start of the data area. */
  readonly dataOffsets: readonly [begin: number, end: number];
}

/** A validated header. */
export interface SafetensorsHeader {
  /** N, the length of the JSON text (padding included), in bytes. */
  readonly headerByteLength: number;
  /** Where the data area starts in the file: 8 + N. */
  readonly dataByteOffset: number;
  /** The length of the data area: the end of the last tensor. */
  readonly dataByteLength: number;
  /** The tensors, ordered by their position in the data area. */
  readonly tensors: readonly TensorInfo[];
  /** The `__metadata__` map, or `{}` when the file has none. */
  readonly metadata: Record<string, string>;
}

const HEADER_ACTION = "Cannot parse safetensors header";
const METADATA_KEY = "__metadata__";
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A short printable form of an untrusted JSON value, for error messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch {
    // JSON.stringify recurses; a value nested a million deep overflows the stack.
    return Array.isArray(value) ? "a deeply nested array" : "a deeply nested object";
  }
  if (text.length <= 60) return text;
  return `${text.slice(0, 57)}...`;
}

/**
 * Reads and checks the header length N from the first 8 bytes of a file.
 *
 * @param prefix at least the first 8 bytes of the file
 * @param fileByteLength the file's size when known; N must then fit inside it
 * @example
 * ```ts
 * import { readHeaderByteLength } from "@spo/safetensors";
 * const prefix = new Uint8Array([8, 0, 0, 0, 0, 0, 0, 0]);
 * console.log(readHeaderByteLength(prefix, 16)); // 8
 * ```
 */
export function readHeaderByteLength(prefix: Uint8Array, fileByteLength?: number): number {
  const knownLength = fileByteLength ?? prefix.length;
  if (prefix.length < LENGTH_FIELD_BYTES || knownLength < LENGTH_FIELD_BYTES) {
    const size = Math.min(prefix.length, knownLength);
    throw new SafetensorsError(
      "file_too_small",
      `Cannot parse safetensors file: file is ${size} bytes, expected at least 8 for the header length`,
    );
  }
  const view = new DataView(prefix.buffer, prefix.byteOffset, LENGTH_FIELD_BYTES);
  const low = view.getUint32(0, true);
  const high = view.getUint32(4, true);
  if (high !== 0 || low > HEADER_BYTE_LENGTH_LIMIT) {
    const length = view.getBigUint64(0, true);
    throw new SafetensorsError(
      "header_too_large",
      `${HEADER_ACTION}: header length ${length} exceeds the ${HEADER_BYTE_LENGTH_LIMIT}-byte limit`,
    );
  }
  if (fileByteLength !== undefined && LENGTH_FIELD_BYTES + low > fileByteLength) {
    throw new SafetensorsError(
      "header_out_of_bounds",
      `${HEADER_ACTION}: header length ${low} runs past the end of the file (8 + ${low} > ${fileByteLength} bytes)`,
    );
  }
  return low;
}

function decodeText(headerBytes: Uint8Array): string {
  try {
    return UTF8.decode(headerBytes);
  } catch (cause) {
    throw new SafetensorsError("invalid_utf8", `${HEADER_ACTION}: header is not valid UTF-8`, { cause });
  }
}

function parseJson(text: string): Record<string, unknown> {
  if (!text.startsWith("{")) {
    throw new SafetensorsError("invalid_header", `${HEADER_ACTION}: header starts with ${describeValue(text.slice(0, 10))}, expected "{"`);
  }
  // before JSON.parse, which builds every level (a 50 MB header of brackets exhausted the heap)
  const depth = depthBeyond(text, MAX_JSON_DEPTH);
  if (depth !== undefined) {
    throw new SafetensorsError(
      "invalid_json",
      `${HEADER_ACTION}: header nests arrays and objects ${depth} levels deep, expected at most ${MAX_JSON_DEPTH}`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new SafetensorsError("invalid_json", `${HEADER_ACTION}: header is not valid JSON (${reason})`, { cause });
  }
  // A text starting with "{" that JSON.parse accepts is an object.
  return value as Record<string, unknown>;
}

function rejectDuplicateKeys(text: string): void {
  const duplicate = findDuplicateKey(text);
  if (duplicate === undefined) return;
  const [entry] = duplicate.path;
  if (entry === undefined) {
    throw new SafetensorsError("duplicate_name", `${HEADER_ACTION}: name "${duplicate.key}" occurs twice, expected unique names`, {
      tensorName: duplicate.key,
    });
  }
  throw new SafetensorsError(
    "invalid_header",
    `${HEADER_ACTION}: entry "${entry}" has key "${duplicate.key}" twice, expected unique keys`,
    { tensorName: entry === METADATA_KEY ? undefined : entry },
  );
}

/** Dims and offsets are unsigned integers in the reference: `2.0`, `1e0` and `-0` are not (JSON.parse reads them as integers). */
function rejectNonDigitCounts(text: string): void {
  const found = findNonDigitCount(text, ["shape", "data_offsets"]);
  if (found === undefined) return;
  const shown = found.arrayText.length <= 60 ? found.arrayText : `${found.arrayText.slice(0, 57)}...`;
  if (found.field === "shape") {
    throw entryError("invalid_shape", found.entry, `has shape ${shown}, expected an array of non-negative integers written as digits only`);
  }
  throw entryError("invalid_offsets", found.entry, `has data_offsets ${shown}, expected [begin, end] written as digits only`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function readMetadata(value: unknown): Record<string, string> {
  if (!isPlainObject(value)) {
    throw new SafetensorsError(
      "invalid_metadata",
      `${HEADER_ACTION}: __metadata__ is ${describeValue(value)}, expected an object of strings`,
    );
  }
  const entries: [string, string][] = [];
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== "string") {
      throw new SafetensorsError(
        "invalid_metadata",
        `${HEADER_ACTION}: __metadata__ entry "${key}" is ${describeValue(item)}, expected a string`,
      );
    }
    entries.push([key, item]);
  }
  return Object.fromEntries(entries);
}

function entryError(
  code: "invalid_header" | "unknown_dtype" | "invalid_shape" | "invalid_offsets" | "size_mismatch",
  name: string,
  problem: string,
): SafetensorsError {
  return new SafetensorsError(code, `${HEADER_ACTION}: tensor "${name}" ${problem}`, { tensorName: name });
}

function readDType(name: string, value: unknown): DType {
  if (isDType(value)) return value;
  throw entryError("unknown_dtype", name, `has dtype ${describeValue(value)}, expected one of ${DTYPES.join(", ")}`);
}

function readShape(name: string, value: unknown): number[] {
  if (!Array.isArray(value) || !value.every(isCount)) {
    throw entryError("invalid_shape", name, `has shape ${describeValue(value)}, expected an array of non-negative integers`);
  }
  return [...value];
}

function readOffsets(name: string, value: unknown): [number, number] {
  const isPair = Array.isArray(value) && value.length === 2 && isCount(value[0]) && isCount(value[1]);
  if (!isPair || value[0] > value[1]) {
    throw entryError("invalid_offsets", name, `has data_offsets ${describeValue(value)}, expected [begin, end] with 0 <= begin <= end`);
  }
  return [value[0], value[1]];
}

/** Bytes a shape of a dtype needs, or undefined when the count is not a safe integer. */
function byteLengthOf(shape: readonly number[], dtype: DType): number | undefined {
  let count = dtypeByteSize(dtype);
  for (const dim of shape) {
    count *= dim;
    if (!Number.isSafeInteger(count)) return undefined;
  }
  return count;
}

function readEntry(name: string, value: unknown): TensorInfo {
  if (!isPlainObject(value)) {
    throw entryError("invalid_header", name, `is ${describeValue(value)}, expected an object with dtype, shape and data_offsets`);
  }
  const dtype = readDType(name, value.dtype);
  const shape = readShape(name, value.shape);
  const dataOffsets = readOffsets(name, value.data_offsets);
  const [begin, end] = dataOffsets;
  const needed = byteLengthOf(shape, dtype);
  if (needed !== end - begin) {
    const neededText = needed === undefined ? "more than 2^53" : String(needed);
    throw entryError(
      "size_mismatch",
      name,
      `has shape [${shape.join(", ")}] of ${dtype} needing ${neededText} bytes, but data_offsets [${begin}, ${end}] hold ${end - begin}`,
    );
  }
  // Frozen: readers hand these out through info(), and they must not change under the reader.
  return { name, dtype, shape: Object.freeze(shape), dataOffsets: Object.freeze(dataOffsets) };
}

function coverageError(code: "offsets_out_of_bounds" | "overlap" | "hole", tensor: TensorInfo, problem: string): SafetensorsError {
  const [begin, end] = tensor.dataOffsets;
  return new SafetensorsError(code, `${HEADER_ACTION}: tensor "${tensor.name}" at data_offsets [${begin}, ${end}] ${problem}`, {
    tensorName: tensor.name,
  });
}

/**
 * Checks that the byte ranges, sorted, tile the data area: each begins where the last ended.
 * Returns the end of the last range. `dataByteLength` is undefined when the file size is unknown.
 */
function checkCoverage(sorted: readonly TensorInfo[], dataByteLength: number | undefined): number {
  let cursor = 0;
  let previous: TensorInfo | undefined;
  for (const tensor of sorted) {
    const [begin, end] = tensor.dataOffsets;
    if (dataByteLength !== undefined && end > dataByteLength) {
      throw coverageError("offsets_out_of_bounds", tensor, `ends past the ${dataByteLength}-byte data area`);
    }
    if (begin < cursor) {
      throw coverageError("overlap", tensor, `overlaps tensor "${previous!.name}" which ends at ${cursor}`);
    }
    if (begin > cursor) {
      const after = previous === undefined ? "the start of the data area" : `tensor "${previous.name}"`;
      throw coverageError("hole", tensor, `leaves bytes [${cursor}, ${begin}) after ${after} unused, expected contiguous tensors`);
    }
    cursor = end;
    previous = tensor;
  }
  if (dataByteLength !== undefined && cursor !== dataByteLength) {
    throw new SafetensorsError(
      "incomplete_buffer",
      `${HEADER_ACTION}: tensors end at byte ${cursor} of the data area, but it holds ${dataByteLength} bytes`,
    );
  }
  return cursor;
}

function byOffsets(left: TensorInfo, right: TensorInfo): number {
  const byBegin = left.dataOffsets[0] - right.dataOffsets[0];
  if (byBegin !== 0) return byBegin;
  return left.dataOffsets[1] - right.dataOffsets[1];
}

/**
 * Validates the N header bytes of a file and returns the header.
 *
 * @param headerBytes the JSON text, bytes 8 to 8 + N of the file
 * @param fileByteLength the whole file's size; when undefined (a server that does not say), the
 *   data area is taken to end where the last tensor ends
 * @example
 * ```ts
 * import { decodeHeader } from "@spo/safetensors";
 * const text = '{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
 * const bytes = new TextEncoder().encode(text);
 * const header = decodeHeader(bytes, 8 + bytes.length + 8);
 * console.log(header.tensors[0].shape); // [ 2 ]
 * ```
 */
export function decodeHeader(headerBytes: Uint8Array, fileByteLength: number | undefined): SafetensorsHeader {
  const headerByteLength = headerBytes.length;
  const dataByteOffset = LENGTH_FIELD_BYTES + headerByteLength;
  const knownDataLength = fileByteLength === undefined ? undefined : fileByteLength - dataByteOffset;
  const text = decodeText(headerBytes);
  const json = parseJson(text);
  rejectDuplicateKeys(text);
  let metadata: Record<string, string> = {};
  const tensors: TensorInfo[] = [];
  for (const [name, value] of Object.entries(json)) {
    if (name === METADATA_KEY) {
      metadata = readMetadata(value);
      continue;
    }
    tensors.push(readEntry(name, value));
  }
  // after the entries: a count that is wrong as a number is reported as such first
  rejectNonDigitCounts(text);
  tensors.sort(byOffsets);
  const dataByteLength = checkCoverage(tensors, knownDataLength);
  return { headerByteLength, dataByteOffset, dataByteLength, tensors, metadata };
}

/**
 * Reads the header of a whole safetensors file, or of its first bytes.
 *
 * @param bytes the file, or at least its first 8 + N bytes
 * @param fileByteLength the whole file's size; defaults to `bytes.length`
 * @example
 * ```ts
 * import { parseSafetensorsHeader, serializeSafetensors } from "@spo/safetensors";
 * const file = serializeSafetensors({ x: { dtype: "F32", shape: [2], data: new Float32Array([1, 2]) } });
 * const header = parseSafetensorsHeader(file);
 * console.log(header.tensors.map((t) => t.name), header.dataByteOffset); // [ 'x' ] 64
 * ```
 */
export function parseSafetensorsHeader(bytes: Uint8Array, fileByteLength: number = bytes.length): SafetensorsHeader {
  const headerByteLength = readHeaderByteLength(bytes, fileByteLength);
  const end = LENGTH_FIELD_BYTES + headerByteLength;
  if (bytes.length < end) {
    throw new SafetensorsError(
      "header_out_of_bounds",
      `${HEADER_ACTION}: got the first ${bytes.length} bytes, expected at least 8 + ${headerByteLength} to hold the header`,
    );
  }
  return decodeHeader(bytes.subarray(LENGTH_FIELD_BYTES, end), fileByteLength);
}
