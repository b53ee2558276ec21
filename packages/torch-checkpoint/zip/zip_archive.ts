/**
 * Members of a zip archive read from a random-access byte source: stored members by byte range
 * (no copy of the rest), deflated ones inflated whole.
 *
 * @module
 */

import type { ByteSource } from "@spo/safetensors";
import { readExactly } from "../byte_source.ts";
import { TorchCheckpointError } from "../errors.ts";
import { crc32 } from "./crc32.ts";
import { inflateRaw } from "./inflate.ts";
import { readZipDirectory, type ZipDirectory, type ZipEntry } from "./zip_directory.ts";

const LOCAL_SIGNATURE = 0x04034b50;
const LOCAL_BYTE_LENGTH = 30;
/** Deflate cannot compress better than about 1032:1; a member declaring more is refused unread. */
const MAX_DEFLATE_RATIO = 1032;

/**
 * A zip archive opened over a {@link ByteSource}: its checked central directory, and its members.
 *
 * @example
 * ```ts
 * const archive = await ZipArchive.open(source);
 * const pickle = await archive.readWhole(archive.entry("archive/data.pkl"));
 * ```
 */
export class ZipArchive {
  readonly source: ByteSource;
  readonly directory: ZipDirectory;
  readonly #dataOffsets = new Map<string, number>();
  /** The last inflated member: storages are read tensor by tensor, often several from one member. */
  #inflated: { name: string; bytes: Uint8Array } | undefined;

  private constructor(source: ByteSource, directory: ZipDirectory) {
    this.source = source;
    this.directory = directory;
  }

  /** Reads and checks the central directory of `source`. */
  static async open(source: ByteSource): Promise<ZipArchive> {
    return new ZipArchive(source, await readZipDirectory(source));
  }

  /** Member names in directory order. */
  get names(): string[] {
    return [...this.directory.entries.keys()];
  }

  /** The entry of a member, or undefined. */
  find(name: string): ZipEntry | undefined {
    return this.directory.entries.get(name);
  }

  /** The entry of a member, or a `missing_record` error. */
  entry(name: string): ZipEntry {
    const entry = this.find(name);
    if (entry === undefined) {
      throw new TorchCheckpointError("missing_record", `Cannot find "${name}" in the zip archive ${this.source.description}`);
    }
    return entry;
  }

  /** A whole member's bytes, inflated if needed, its CRC-32 checked. */
  async readWhole(entry: ZipEntry): Promise<Uint8Array> {
    const bytes = await this.#readContent(entry);
    if (crc32(bytes) !== entry.crc32) {
      throw new TorchCheckpointError(
        "corrupt_zip",
        `Cannot read "${entry.name}" from ${this.source.description}: its CRC-32 does not match the directory`,
      );
    }
    return bytes;
  }

  /** Bytes `[start, end)` of a member's content; stored members read only those bytes. */
  async readRange(entry: ZipEntry, start: number, end: number): Promise<Uint8Array> {
    if (start < 0 || end > entry.byteLength || start > end) {
      throw new TorchCheckpointError(
        "corrupt_zip",
        `Cannot read bytes [${start}, ${end}) of "${entry.name}" in ${this.source.description}: it has ${entry.byteLength} bytes`,
      );
    }
    if (entry.method === 8) return (await this.#readContent(entry)).subarray(start, end);
    const dataOffset = await this.#dataOffset(entry);
    return readExactly(this.source, dataOffset + start, dataOffset + end, `bytes [${start}, ${end}) of "${entry.name}"`);
  }

  async #readContent(entry: ZipEntry): Promise<Uint8Array> {
    if (this.#inflated?.name === entry.name) return this.#inflated.bytes;
    const dataOffset = await this.#dataOffset(entry);
    const raw = await readExactly(this.source, dataOffset, dataOffset + entry.compressedByteLength, `"${entry.name}"`);
    if (entry.method === 0) return raw;
    if (entry.byteLength > Math.max(1024, entry.compressedByteLength * MAX_DEFLATE_RATIO)) {
      throw new TorchCheckpointError(
        "corrupt_zip",
        `Cannot inflate "${entry.name}" in ${this.source.description}: ${entry.compressedByteLength} compressed bytes cannot hold the declared ${entry.byteLength}`,
      );
    }
    const bytes = await inflateRaw(raw, entry.byteLength, `"${entry.name}" in ${this.source.description}`);
    this.#inflated = { name: entry.name, bytes };
    return bytes;
  }

  /** Reads a member's local header once: the data starts after its name and extra field. */
  async #dataOffset(entry: ZipEntry): Promise<number> {
    const known = this.#dataOffsets.get(entry.name);
    if (known !== undefined) return known;
    const at = entry.localHeaderOffset;
    const header = await readExactly(this.source, at, at + LOCAL_BYTE_LENGTH, `the local header of "${entry.name}"`);
    const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
    if (view.getUint32(0, true) !== LOCAL_SIGNATURE) {
      throw new TorchCheckpointError(
        "corrupt_zip",
        `Cannot read "${entry.name}" from ${this.source.description}: no local header at ${at}`,
      );
    }
    const dataOffset = at + LOCAL_BYTE_LENGTH + view.getUint16(26, true) + view.getUint16(28, true);
    if (dataOffset + entry.compressedByteLength > this.directory.centralDirectoryOffset) {
      throw new TorchCheckpointError(
        "corrupt_zip",
        `Cannot read "${entry.name}" from ${this.source.description}: its data runs into the central directory`,
      );
    }
    this.#dataOffsets.set(entry.name, dataOffset);
    return dataOffset;
  }
}
