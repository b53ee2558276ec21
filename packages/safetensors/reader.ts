/**
 * Reading a safetensors file lazily from any random-access byte source: the header once, then
 * each tensor's bytes only when asked. Files (`readSafetensorsFile`), URLs
 * (`openSafetensorsUrl`) and blobs (`openSafetensorsBlob`) are byte sources over this one reader.
 *
 * @module
 */

import { SafetensorsError } from "./errors.ts";
import { decodeHeader, LENGTH_FIELD_BYTES, readHeaderByteLength, type SafetensorsHeader, type TensorInfo } from "./header.ts";
import type { SafeTensor, SafeTensorMap } from "./tensor.ts";
import { toFloat32Array } from "./to_float32.ts";

/**
 * Random access to the bytes of one file. Implement it to read safetensors from anywhere.
 *
 * @example
 * ```ts
 * import type { ByteSource } from "@spo/safetensors";
 * function memorySource(bytes: Uint8Array): ByteSource {
 *   return {
 *     description: "memory",
 *     byteLength: bytes.length,
 *     read: async (start, end) => bytes.slice(start, end),
 *   };
 * }
 * ```
 */
export interface ByteSource {
  /** Names the source in error messages: a path, a URL. */
  readonly description: string;
  /** The size in bytes, or undefined while unknown; may become known after the first `read`. */
  readonly byteLength: number | undefined;
  /** Bytes `[start, end)`; fewer only where the file ends before `end`. */
  read(start: number, end: number): Promise<Uint8Array>;
  /** Releases the source (closes a file handle). */
  close?(): Promise<void>;
}

/** Options for opening a lazy reader. */
export interface OpenOptions {
  /**
   * How many bytes the first read asks for. The header usually fits in them, so opening
   * takes one read; if not, a second read fetches the rest. At least 8.
   */
  prefetchByteLength?: number;
}

/** Options for {@link SafetensorsReader.readAll}. */
export interface ReadAllOptions {
  /** Neighbouring tensors are read together in reads of up to this many bytes (default 64 MiB). */
  chunkByteLength?: number;
}

/** Where a tensor lies, with its dtype and shape. */
export interface TensorLocation extends TensorInfo {
  /** The first byte of the tensor in the file (8 + N + begin). */
  readonly byteOffset: number;
  /** Its length in bytes. */
  readonly byteLength: number;
}

/** The default first read of a lazy reader: 64 KiB. */
export const DEFAULT_PREFETCH_BYTE_LENGTH = 64 * 1024;
const DEFAULT_CHUNK_BYTE_LENGTH = 64 * 1024 * 1024;

/** Reads exactly `[start, end)` or throws: a short read means the file is shorter than its header says. */
async function readExactly(source: ByteSource, start: number, end: number, what: string, tensorName?: string): Promise<Uint8Array> {
  if (end === start) return new Uint8Array(0);
  const bytes = await source.read(start, end);
  if (bytes.length !== end - start) {
    throw new SafetensorsError(
      "incomplete_buffer",
      `Cannot read ${what} from ${source.description}: got ${bytes.length} of bytes [${start}, ${end}), the file ends early`,
      { tensorName },
    );
  }
  return bytes;
}

/** Groups consecutive tensors (in file order) into runs of up to `limit` bytes; a larger tensor is a run alone. */
function chunkRuns(tensors: readonly TensorInfo[], limit: number): TensorInfo[][] {
  const runs: TensorInfo[][] = [];
  let run: TensorInfo[] = [];
  let runBegin = 0;
  for (const tensor of tensors) {
    const [begin, end] = tensor.dataOffsets;
    if (run.length > 0 && end - runBegin > limit) {
      runs.push(run);
      run = [];
    }
    if (run.length === 0) runBegin = begin;
    run.push(tensor);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

/**
 * A safetensors file opened lazily: the header is read and validated, tensors are read on demand.
 * Close it when done (or `await using reader = ...`). Made by {@link openSafetensors},
 * `readSafetensorsFile`, `openSafetensorsUrl` and `openSafetensorsBlob`.
 *
 * @example
 * ```ts
 * import { openSafetensorsBlob, serializeSafetensors, toFloat32Array } from "@spo/safetensors";
 * const bytes = serializeSafetensors({ w: { dtype: "F32", shape: [2], data: new Float32Array([1, 2]) } });
 * await using reader = await openSafetensorsBlob(new Blob([bytes]));
 * console.log(reader.names, reader.info("w").byteLength); // [ 'w' ] 8
 * console.log(toFloat32Array(await reader.tensor("w"))); // Float32Array(2) [ 1, 2 ]
 * ```
 */
export class SafetensorsReader implements AsyncDisposable {
  /** The validated header. */
  readonly header: SafetensorsHeader;
  readonly #source: ByteSource;
  readonly #byName: Map<string, TensorInfo>;
  #isClosed = false;

  constructor(source: ByteSource, header: SafetensorsHeader) {
    this.#source = source;
    this.header = header;
    this.#byName = new Map(header.tensors.map((info) => [info.name, info]));
  }

  /** Tensor names in file order. */
  get names(): string[] {
    return this.header.tensors.map((info) => info.name);
  }

  /** The `__metadata__` map, `{}` when the file has none. */
  get metadata(): Record<string, string> {
    return this.header.metadata;
  }

  /** The size of the file in bytes. */
  get byteLength(): number {
    return this.header.dataByteOffset + this.header.dataByteLength;
  }

  /** Whether the file has a tensor of this name. */
  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /** The dtype, shape and byte range of a tensor, without reading it. */
  info(name: string): TensorLocation {
    const info = this.#byName.get(name);
    if (info === undefined) {
      throw new SafetensorsError(
        "tensor_not_found",
        `Cannot find tensor "${name}" in ${this.#source.description}: it has ${this.#byName.size} other tensors`,
        { tensorName: name },
      );
    }
    const [begin, end] = info.dataOffsets;
    return { ...info, byteOffset: this.header.dataByteOffset + begin, byteLength: end - begin };
  }

  /** Reads one tensor's bytes (only those) into a new buffer. */
  async tensor(name: string): Promise<SafeTensor> {
    const location = this.info(name);
    this.#checkOpen(name);
    const data = await readExactly(this.#source, location.byteOffset, location.byteOffset + location.byteLength, `tensor "${name}"`, name);
    return { dtype: location.dtype, shape: [...location.shape], data };
  }

  /**
   * Reads one tensor and converts it to f32 (from any float or integer dtype): the form model
   * loaders want, so a reader can be handed to `loadWeights` of @spo/wgpu-tensor as it is.
   */
  async float32(name: string): Promise<{ shape: number[]; data: Float32Array }> {
    const entry = await this.tensor(name);
    return { shape: entry.shape, data: toFloat32Array(entry) };
  }

  /**
   * Reads every tensor, neighbours together in reads of up to `chunkByteLength` bytes. A tensor's
   * data is a view of its read, which starts at a multiple of 8 in the file, so a view is aligned
   * exactly when the tensor is aligned in the file.
   */
  async readAll(options: ReadAllOptions = {}): Promise<SafeTensorMap> {
    this.#checkOpen(undefined);
    const limit = options.chunkByteLength ?? DEFAULT_CHUNK_BYTE_LENGTH;
    const tensors: SafeTensorMap = new Map();
    const base = this.header.dataByteOffset;
    for (const run of chunkRuns(this.header.tensors, limit)) {
      const runBegin = base + run[0]!.dataOffsets[0];
      const runEnd = base + run[run.length - 1]!.dataOffsets[1];
      const readBegin = runBegin - (runBegin % 8);
      const bytes = await readExactly(this.#source, readBegin, runEnd, `${run.length} tensors`);
      for (const info of run) {
        const [begin, end] = info.dataOffsets;
        const data = bytes.subarray(base + begin - readBegin, base + end - readBegin);
        tensors.set(info.name, { dtype: info.dtype, shape: [...info.shape], data });
      }
    }
    return tensors;
  }

  /** Closes the source. Reading afterwards throws; closing twice does nothing. */
  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    await this.#source.close?.();
  }

  /** Closes the reader at the end of an `await using` block (where the runtime has `Symbol.asyncDispose`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #checkOpen(name: string | undefined): void {
    if (!this.#isClosed) return;
    const what = name === undefined ? "tensors" : `tensor "${name}"`;
    throw new SafetensorsError("closed", `Cannot read ${what} from ${this.#source.description}: the reader is closed`, {
      tensorName: name,
    });
  }
}

async function readHeader(source: ByteSource, prefetchByteLength: number): Promise<SafetensorsHeader> {
  const prefix = await source.read(0, prefetchByteLength);
  const isWholeFile = prefix.length < prefetchByteLength;
  const fileByteLength = source.byteLength ?? (isWholeFile ? prefix.length : undefined);
  const headerByteLength = readHeaderByteLength(prefix, fileByteLength);
  const headerEnd = LENGTH_FIELD_BYTES + headerByteLength;
  let headerBytes: Uint8Array;
  if (prefix.length >= headerEnd) {
    headerBytes = prefix.subarray(LENGTH_FIELD_BYTES, headerEnd);
  } else {
    headerBytes = await readExactly(source, LENGTH_FIELD_BYTES, headerEnd, "the header");
  }
  return decodeHeader(headerBytes, source.byteLength ?? fileByteLength);
}

/**
 * Opens a safetensors file from any {@link ByteSource}: reads and validates the header, and
 * returns a reader that fetches tensors on demand. If the header is invalid, closes the source and
 * throws the header's {@link SafetensorsError} with the source named at the end of the message.
 *
 * @example
 * ```ts
 * import { openSafetensors, serializeSafetensors } from "@spo/safetensors";
 * const bytes = serializeSafetensors({ x: { dtype: "I32", shape: [1], data: new Int32Array([7]) } });
 * const reader = await openSafetensors({ description: "memory", byteLength: bytes.length, read: async (a, b) => bytes.slice(a, b) });
 * console.log(reader.names, (await reader.tensor("x")).data); // [ 'x' ] Uint8Array(4) [ 7, 0, 0, 0 ]
 * ```
 */
export async function openSafetensors(source: ByteSource, options: OpenOptions = {}): Promise<SafetensorsReader> {
  const prefetchByteLength = Math.max(LENGTH_FIELD_BYTES, options.prefetchByteLength ?? DEFAULT_PREFETCH_BYTE_LENGTH);
  try {
    const header = await readHeader(source, prefetchByteLength);
    return new SafetensorsReader(source, header);
  } catch (error) {
    await source.close?.();
    if (!(error instanceof SafetensorsError)) throw error;
    // Header errors come from the shared validation, which does not know where the bytes came from.
    const message = `${error.message} (reading ${source.description})`;
    throw new SafetensorsError(error.code, message, { tensorName: error.tensorName, cause: error });
  }
}
