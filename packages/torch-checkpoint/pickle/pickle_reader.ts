/**
 * Bounds-checked reading of a pickle's bytes: every length is checked against what is left, so
 * a forged length can neither read past the end nor allocate more than the pickle holds.
 *
 * @module
 */

import { TorchCheckpointError } from "../errors.ts";

/** The largest int a LONG1 / LONG4 opcode may encode: 4 KiB of digits is far beyond any real checkpoint. */
const MAX_LONG_BYTE_LENGTH = 4096;
/** A text-form opcode's line (INT, FLOAT, GLOBAL, …) may be at most this long. */
const MAX_LINE_BYTE_LENGTH = 1 << 20;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A cursor over a pickle's bytes. */
export class PickleReader {
  readonly bytes: Uint8Array;
  readonly #view: DataView;
  position: number;

  constructor(bytes: Uint8Array, position = 0) {
    this.bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.position = position;
  }

  get remaining(): number {
    return this.bytes.length - this.position;
  }

  #need(count: number, what: string): void {
    if (count > this.remaining) {
      throw new TorchCheckpointError(
        "truncated",
        `Cannot read the pickle: it ends at byte ${this.bytes.length} inside ${what}, which needs ${count} more bytes at ${this.position}`,
      );
    }
  }

  u8(what = "an opcode"): number {
    this.#need(1, what);
    return this.bytes[this.position++]!;
  }

  u16(what: string): number {
    this.#need(2, what);
    const value = this.#view.getUint16(this.position, true);
    this.position += 2;
    return value;
  }

  u32(what: string): number {
    this.#need(4, what);
    const value = this.#view.getUint32(this.position, true);
    this.position += 4;
    return value;
  }

  i32(what: string): number {
    this.#need(4, what);
    const value = this.#view.getInt32(this.position, true);
    this.position += 4;
    return value;
  }

  /** An unsigned 64-bit length; anything above what is left fails the bounds check that follows. */
  u64(what: string): number {
    this.#need(8, what);
    const value = this.#view.getBigUint64(this.position, true);
    this.position += 8;
    return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
  }

  f64(what: string): number {
    this.#need(8, what);
    const value = this.#view.getFloat64(this.position, false);
    this.position += 8;
    return value;
  }

  take(count: number, what: string): Uint8Array {
    this.#need(count, what);
    const bytes = this.bytes.subarray(this.position, this.position + count);
    this.position += count;
    return bytes;
  }

  utf8(count: number, what: string): string {
    const bytes = this.take(count, what);
    try {
      return utf8.decode(bytes);
    } catch (cause) {
      throw new TorchCheckpointError(
        "corrupt_pickle",
        `Cannot read the pickle: ${what} at byte ${this.position - count} is not valid UTF-8`,
        { cause },
      );
    }
  }

  /** A two's-complement little-endian integer of `count` bytes (LONG1, LONG4). */
  long(count: number, what: string): number | bigint {
    if (count > MAX_LONG_BYTE_LENGTH) {
      throw new TorchCheckpointError(
        "limit_exceeded",
        `Cannot read the pickle: ${what} at byte ${this.position} declares a ${count}-byte integer, more than ${MAX_LONG_BYTE_LENGTH}`,
      );
    }
    const bytes = this.take(count, what);
    let value = 0n;
    for (let i = count - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
    if (count > 0 && bytes[count - 1]! >= 0x80) value -= 1n << BigInt(count * 8);
    return normalizeInt(value);
  }

  /** The bytes up to the next newline (excluded), as latin1 text (the text opcodes of protocols 0 and 1). */
  line(what: string): string {
    const limit = Math.min(this.bytes.length, this.position + MAX_LINE_BYTE_LENGTH);
    let end = this.position;
    while (end < limit && this.bytes[end] !== 0x0a) end++;
    if (end >= limit) {
      const code = limit === this.bytes.length ? "truncated" : "limit_exceeded";
      throw new TorchCheckpointError(code, `Cannot read the pickle: ${what} at byte ${this.position} has no end of line`);
    }
    let text = "";
    for (let i = this.position; i < end; i++) text += String.fromCharCode(this.bytes[i]!);
    this.position = end + 1;
    return text;
  }
}

/** An int as a JS number when exact, else a bigint. */
export function normalizeInt(value: bigint): number | bigint {
  const isSafe = value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER);
  return isSafe ? Number(value) : value;
}
