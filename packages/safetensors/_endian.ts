// safetensors stores little-endian numbers; typed arrays use the platform's byte order. Every
// platform browsers and Node run on today is little-endian, but we check rather than assume and
// swap bytes on a big-endian host.

/** Whether this platform stores numbers little-endian, as safetensors does. */
export const IS_LITTLE_ENDIAN: boolean = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A copy of `bytes` with the byte order of every `elementSize`-byte element reversed. */
export function swapBytes(bytes: Uint8Array, elementSize: number): Uint8Array {
  const swapped = new Uint8Array(bytes.length);
  for (let start = 0; start < bytes.length; start += elementSize) {
    for (let offset = 0; offset < elementSize; offset += 1) {
      swapped[start + offset] = bytes[start + elementSize - 1 - offset]!;
    }
  }
  return swapped;
}
