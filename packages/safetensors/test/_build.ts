// Builds safetensors files by hand, header text and all, for tests of malformed input.

/** A file with the given header text (as UTF-8), data bytes, and optionally a forged length field. */
export function fileWithHeader(headerText: string, data: Uint8Array | number = 0, lengthField?: bigint): Uint8Array {
  const header = new TextEncoder().encode(headerText);
  return fileWithHeaderBytes(header, data, lengthField);
}

/** A file with the given header bytes, data bytes, and optionally a forged length field. */
export function fileWithHeaderBytes(header: Uint8Array, data: Uint8Array | number = 0, lengthField?: bigint): Uint8Array {
  const dataBytes = typeof data === "number" ? new Uint8Array(data) : data;
  const file = new Uint8Array(8 + header.length + dataBytes.length);
  new DataView(file.buffer).setBigUint64(0, lengthField ?? BigInt(header.length), true);
  file.set(header, 8);
  file.set(dataBytes, 8 + header.length);
  return file;
}

/** The header text of one tensor entry. */
export function entry(name: string, dtype: string, shape: number[], begin: number, end: number): string {
  return `${JSON.stringify(name)}:{"dtype":"${dtype}","shape":${JSON.stringify(shape)},"data_offsets":[${begin},${end}]}`;
}
