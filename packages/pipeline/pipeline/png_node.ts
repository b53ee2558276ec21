/**
 * PNG encoding in Node: the scanlines deflated by `node:zlib` (see png.ts for the rest).
 *
 * @module
 */

import { deflateSync } from "node:zlib";
import { assemblePng, type PngImage, pngScanlines } from "./png.ts";

export { PNG_SIGNATURE } from "./png.ts";

/**
 * Encodes an RGBA image as PNG bytes, with a `tEXt` chunk for each entry of `text` (A1111 reads
 * its generation settings from `parameters`).
 *
 * @example
 * ```ts
 * await writeFile("out.png", toPng(images[0]));
 * ```
 */
export function toPng(image: PngImage, text: Record<string, string> = {}): Uint8Array {
  return assemblePng(image, deflateSync(pngScanlines(image)), text);
}
