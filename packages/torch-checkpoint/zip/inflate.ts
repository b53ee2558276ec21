/**
 * Raw deflate decompression with the platform's `DecompressionStream("deflate-raw")` (Node ≥ 20,
 * browsers), stopped as soon as the output would pass its declared size.
 *
 * @module
 */

import { TorchCheckpointError } from "../errors.ts";

/**
 * Inflates `compressed` to exactly `byteLength` bytes, or throws: corrupt data, more output than
 * declared (checked while streaming, so a zip bomb never fills memory), or less.
 */
export async function inflateRaw(compressed: Uint8Array, byteLength: number, what: string): Promise<Uint8Array> {
  const output = new Uint8Array(byteLength);
  let filled = 0;
  const stream = new Blob([compressed as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (filled + value.length > byteLength) {
        throw new TorchCheckpointError("corrupt_zip", `Cannot inflate ${what}: it inflates to more than the declared ${byteLength} bytes`);
      }
      output.set(value, filled);
      filled += value.length;
    }
  } catch (cause) {
    await reader.cancel().catch(() => undefined);
    if (cause instanceof TorchCheckpointError) throw cause;
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new TorchCheckpointError("corrupt_zip", `Cannot inflate ${what}: ${reason}`, { cause });
  }
  if (filled !== byteLength) {
    throw new TorchCheckpointError(
      "corrupt_zip",
      `Cannot inflate ${what}: it inflates to ${filled} bytes, the directory declares ${byteLength}`,
    );
  }
  return output;
}
