/**
 * The central directory of a zip archive: found from the end of the file, zip64 included, every
 * entry checked against the file's size before anything is read from it.
 *
 * @module
 */

import type { ByteSource } from "@spo/safetensors";
import { readExactly, sourceByteLength } from "../byte_source.ts";
import { TorchCheckpointError } from "../errors.ts";

/** One member of the archive, as the central directory describes it. */
export interface ZipEntry {
  readonly name: string;
  /** 0: stored, 8: deflated. */
  readonly method: 0 | 8;
  readonly crc32: number;
  readonly compressedByteLength: number;
  readonly byteLength: number;
  /** Where the member's local header starts. */
  readonly localHeaderOffset: number;
}

/** The entries of an archive by name, and where the central directory starts. */
export interface ZipDirectory {
  readonly entries: ReadonlyMap<string, ZipEntry>;
  readonly centralDirectoryOffset: number;
  readonly fileByteLength: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const EOCD_BYTE_LENGTH = 22;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_LOCATOR_BYTE_LENGTH = 20;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const ZIP64_EOCD_BYTE_LENGTH = 56;
const CENTRAL_SIGNATURE = 0x02014b50;
const CENTRAL_BYTE_LENGTH = 46;
const MAX_COMMENT_BYTE_LENGTH = 0xffff;
const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;
const ZIP64_EXTRA_ID = 0x0001;
const FLAG_ENCRYPTED = 0x1;
const FLAG_UTF8 = 0x800;

function corrupt(source: ByteSource, problem: string): TorchCheckpointError {
  return new TorchCheckpointError("corrupt_zip", `Cannot read the zip archive ${source.description}: ${problem}`);
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A little-endian u64 as a number; above 2^53 is refused (no file is that large). */
function readU64(view: DataView, at: number, source: ByteSource, what: string): number {
  const value = view.getBigUint64(at, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(source, `${what} is ${value}, larger than any file`);
  return Number(value);
}

interface EndRecord {
  entryCount: number;
  directoryByteLength: number;
  directoryOffset: number;
  /** Where the end record (or the zip64 one) starts: the directory must end at or before it. */
  recordOffset: number;
}

/** Finds the end-of-central-directory record, scanning back over a possible comment. */
async function findEndRecord(source: ByteSource, fileByteLength: number): Promise<EndRecord> {
  if (fileByteLength < EOCD_BYTE_LENGTH) throw corrupt(source, `the file has ${fileByteLength} bytes, fewer than a zip end record (22)`);
  const tailStart = Math.max(0, fileByteLength - EOCD_BYTE_LENGTH - MAX_COMMENT_BYTE_LENGTH - ZIP64_LOCATOR_BYTE_LENGTH);
  const tail = await readExactly(source, tailStart, fileByteLength, "the end of the zip archive");
  const view = viewOf(tail);
  for (let at = tail.length - EOCD_BYTE_LENGTH; at >= 0; at--) {
    if (view.getUint32(at, true) !== EOCD_SIGNATURE) continue;
    const commentByteLength = view.getUint16(at + 20, true);
    if (at + EOCD_BYTE_LENGTH + commentByteLength !== tail.length) continue;
    if (view.getUint16(at + 4, true) !== 0 || view.getUint16(at + 6, true) !== 0) {
      throw new TorchCheckpointError("unsupported_zip", `Cannot read the zip archive ${source.description}: it spans several disks`);
    }
    const record: EndRecord = {
      entryCount: view.getUint16(at + 10, true),
      directoryByteLength: view.getUint32(at + 12, true),
      directoryOffset: view.getUint32(at + 16, true),
      recordOffset: tailStart + at,
    };
    const isZip64 = record.entryCount === U16_MAX || record.directoryByteLength === U32_MAX || record.directoryOffset === U32_MAX;
    const locatorAt = at - ZIP64_LOCATOR_BYTE_LENGTH;
    const hasLocator = locatorAt >= 0 && view.getUint32(locatorAt, true) === ZIP64_LOCATOR_SIGNATURE;
    if (isZip64 || hasLocator) {
      if (!hasLocator) throw corrupt(source, "the end record asks for zip64 but there is no zip64 locator before it");
      return readZip64EndRecord(source, fileByteLength, readU64(view, locatorAt + 8, source, "the zip64 end record offset"));
    }
    return record;
  }
  throw new TorchCheckpointError(
    "not_a_checkpoint",
    `Cannot read ${source.description} as a zip archive: no end-of-central-directory record was found`,
  );
}

async function readZip64EndRecord(source: ByteSource, fileByteLength: number, offset: number): Promise<EndRecord> {
  if (offset + ZIP64_EOCD_BYTE_LENGTH > fileByteLength)
    throw corrupt(source, `the zip64 end record at ${offset} lies past the end of the file`);
  const view = viewOf(await readExactly(source, offset, offset + ZIP64_EOCD_BYTE_LENGTH, "the zip64 end record"));
  if (view.getUint32(0, true) !== ZIP64_EOCD_SIGNATURE) throw corrupt(source, `no zip64 end record at ${offset}`);
  if (view.getUint32(16, true) !== 0 || view.getUint32(20, true) !== 0) {
    throw new TorchCheckpointError("unsupported_zip", `Cannot read the zip archive ${source.description}: it spans several disks`);
  }
  return {
    entryCount: readU64(view, 32, source, "the entry count"),
    directoryByteLength: readU64(view, 40, source, "the central directory size"),
    directoryOffset: readU64(view, 48, source, "the central directory offset"),
    recordOffset: offset,
  };
}

/** Replaces 0xFFFFFFFF fields by their values from the zip64 extra field, in the order the format lists them. */
function applyZip64Extra(
  extra: DataView,
  fields: { byteLength: number; compressedByteLength: number; localHeaderOffset: number },
  source: ByteSource,
  name: string,
): void {
  const wanted = (["byteLength", "compressedByteLength", "localHeaderOffset"] as const).filter((key) => fields[key] === U32_MAX);
  if (wanted.length === 0) return;
  for (let at = 0; at + 4 <= extra.byteLength; ) {
    const id = extra.getUint16(at, true);
    const size = extra.getUint16(at + 2, true);
    if (at + 4 + size > extra.byteLength) break;
    if (id === ZIP64_EXTRA_ID) {
      if (size < wanted.length * 8) throw corrupt(source, `the zip64 field of "${name}" has ${size} bytes, expected ${wanted.length * 8}`);
      wanted.forEach((key, index) => {
        fields[key] = readU64(extra, at + 4 + index * 8, source, `the ${key} of "${name}"`);
      });
      return;
    }
    at += 4 + size;
  }
  throw corrupt(source, `"${name}" has 32-bit fields set to 0xFFFFFFFF but no zip64 extra field`);
}

function decodeName(bytes: Uint8Array, isUtf8: boolean): string {
  if (isUtf8) {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      // fall through: names that are not UTF-8 are read byte for byte
    }
  }
  let name = "";
  for (let i = 0; i < bytes.length; i++) name += String.fromCharCode(bytes[i]!);
  return name;
}

function parseEntry(view: DataView, bytes: Uint8Array, at: number, source: ByteSource): { entry: ZipEntry; next: number } {
  if (at + CENTRAL_BYTE_LENGTH > bytes.length || view.getUint32(at, true) !== CENTRAL_SIGNATURE) {
    throw corrupt(source, `no central directory entry at byte ${at} of the directory`);
  }
  const flags = view.getUint16(at + 8, true);
  const method = view.getUint16(at + 10, true);
  const nameByteLength = view.getUint16(at + 28, true);
  const extraByteLength = view.getUint16(at + 30, true);
  const commentByteLength = view.getUint16(at + 32, true);
  const next = at + CENTRAL_BYTE_LENGTH + nameByteLength + extraByteLength + commentByteLength;
  if (next > bytes.length) throw corrupt(source, "a central directory entry runs past the directory's end");
  const nameStart = at + CENTRAL_BYTE_LENGTH;
  const name = decodeName(bytes.subarray(nameStart, nameStart + nameByteLength), (flags & FLAG_UTF8) !== 0);
  if ((flags & FLAG_ENCRYPTED) !== 0) {
    throw new TorchCheckpointError("unsupported_zip", `Cannot read "${name}" in ${source.description}: it is encrypted`);
  }
  if (method !== 0 && method !== 8) {
    throw new TorchCheckpointError(
      "unsupported_zip",
      `Cannot read "${name}" in ${source.description}: compression method ${method}, expected stored (0) or deflated (8)`,
    );
  }
  const fields = {
    compressedByteLength: view.getUint32(at + 20, true),
    byteLength: view.getUint32(at + 24, true),
    localHeaderOffset: view.getUint32(at + 42, true),
  };
  const extraStart = nameStart + nameByteLength;
  applyZip64Extra(new DataView(bytes.buffer, bytes.byteOffset + extraStart, extraByteLength), fields, source, name);
  if (method === 0 && fields.compressedByteLength !== fields.byteLength) {
    throw corrupt(
      source,
      `stored member "${name}" has ${fields.compressedByteLength} compressed and ${fields.byteLength} uncompressed bytes, they must be equal`,
    );
  }
  return { entry: { name, method, crc32: view.getUint32(at + 16, true), ...fields }, next };
}

/**
 * Reads and checks the central directory: it must lie inside the file before its end record,
 * hold the declared number of entries, have no duplicate names, and every member's declared
 * bytes must lie before the directory.
 */
export async function readZipDirectory(source: ByteSource): Promise<ZipDirectory> {
  const fileByteLength = await sourceByteLength(source);
  const end = await findEndRecord(source, fileByteLength);
  const directoryEnd = end.directoryOffset + end.directoryByteLength;
  if (directoryEnd > end.recordOffset) {
    throw corrupt(source, `the central directory [${end.directoryOffset}, ${directoryEnd}) overlaps its end record at ${end.recordOffset}`);
  }
  if (end.entryCount * CENTRAL_BYTE_LENGTH > end.directoryByteLength) {
    throw corrupt(source, `${end.entryCount} entries cannot fit in a ${end.directoryByteLength}-byte central directory`);
  }
  const bytes = await readExactly(source, end.directoryOffset, directoryEnd, "the central directory");
  const view = viewOf(bytes);
  const entries = new Map<string, ZipEntry>();
  let at = 0;
  for (let index = 0; index < end.entryCount; index++) {
    const { entry, next } = parseEntry(view, bytes, at, source);
    if (entries.has(entry.name)) throw corrupt(source, `"${entry.name}" appears twice in the central directory`);
    // 30 bytes of local header at least, then the data, all before the directory.
    if (entry.localHeaderOffset + 30 + entry.compressedByteLength > end.directoryOffset) {
      throw corrupt(source, `"${entry.name}" declares bytes past the start of the central directory (${end.directoryOffset})`);
    }
    entries.set(entry.name, entry);
    at = next;
  }
  return { entries, centralDirectoryOffset: end.directoryOffset, fileByteLength };
}
