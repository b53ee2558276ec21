/**
 * The platform-free part of PNG encoding (8-bit RGBA, filter 0): the scanlines to deflate, the
 * chunks with their CRC-32, and `tEXt` chunks as AUTOMATIC1111 stores its generation `parameters`.
 * Deflating is left to the caller: `node:zlib` in `png_node.ts`, `CompressionStream` in a browser.
 *
 * @module
 */

/** The PNG signature bytes. */
export const PNG_SIGNATURE: Uint8Array = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

/** An RGBA image: `width · height · 4` bytes, rows top to bottom. */
export interface PngImage {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO 3309, as PNG uses) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * A `tEXt` chunk's data: Latin-1 keyword, NUL, Latin-1 text. Characters outside Latin-1 (a prompt
 * in Japanese, say) cannot be written to tEXt; they are refused rather than mangled.
 */
function textData(keyword: string, text: string): Uint8Array {
  if (!/^[\x20-\x7e\xa1-\xff]{1,79}$/.test(keyword))
    throw new RangeError(`Cannot write PNG text "${keyword}": a keyword is 1–79 Latin-1 characters`);
  const all = `${keyword}\0${text}`;
  const out = new Uint8Array(all.length);
  for (let i = 0; i < all.length; i++) {
    const code = all.charCodeAt(i);
    if (code > 0xff) throw new RangeError(`Cannot write PNG text "${keyword}": character "${all[i]}" is outside Latin-1`);
    out[i] = code;
  }
  return out;
}

/** The image's rows, each after its filter byte 0 (none): what the IDAT chunk holds once deflated. */
export function pngScanlines(image: PngImage): Uint8Array {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || data.length !== width * height * 4) {
    throw new RangeError(`Cannot encode a PNG of ${width}×${height}: expected ${width * height * 4} RGBA bytes, got ${data.length}`);
  }
  const stride = width * 4;
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) raw.set(data.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  return raw;
}

/**
 * The PNG file of `image` from its deflated scanlines (zlib format), with a `tEXt` chunk for
 * each entry of `text` before the image data.
 */
export function assemblePng(image: PngImage, deflatedScanlines: Uint8Array, text: Record<string, string> = {}): Uint8Array {
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, image.width);
  view.setUint32(4, image.height);
  header[8] = 8; // bit depth
  header[9] = 6; // colour type: RGBA
  const parts = [PNG_SIGNATURE, chunk("IHDR", header)];
  for (const [keyword, value] of Object.entries(text)) parts.push(chunk("tEXt", textData(keyword, value)));
  parts.push(chunk("IDAT", deflatedScanlines), chunk("IEND", new Uint8Array(0)));
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
