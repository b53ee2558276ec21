// A ByteSource over bytes in memory that records every read, to prove what a reader touches.

import type { ByteSource } from "../reader.ts";

/** A memory source plus the log of its reads and whether it was closed. */
export interface RecordingSource extends ByteSource {
  reads: [start: number, end: number][];
  isClosed: boolean;
  /** Total bytes handed out. */
  bytesRead(): number;
}

/** A source over `bytes`; `isSizeKnown` false mimics a server that does not tell the size. */
export function memorySource(bytes: Uint8Array, isSizeKnown = true): RecordingSource {
  const reads: [number, number][] = [];
  return {
    description: "memory",
    byteLength: isSizeKnown ? bytes.length : undefined,
    reads,
    isClosed: false,
    async read(start, end) {
      reads.push([start, end]);
      return bytes.slice(start, end);
    },
    async close() {
      this.isClosed = true;
    },
    bytesRead() {
      return reads.reduce((sum, [start, end]) => sum + Math.max(0, Math.min(end, bytes.length) - start), 0);
    },
  };
}
