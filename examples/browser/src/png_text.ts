/**
 * PNG files with text chunks, made in the browser: 8-bit RGBA, filter 0, the image data deflated by
 * the platform's `CompressionStream("deflate")` (zlib format, what PNG's IDAT holds), and one
 * `tEXt` chunk per entry, as AUTOMATIC1111 stores its generation `parameters`.
 *
 * @module
 */

import { assemblePng, type PngImage, pngScanlines } from "@spo/pipeline";

async function deflate(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Encodes `image` as a PNG with a `tEXt` chunk for each entry of `text`.
 *
 * @example
 * ```ts
 * const png = await encodePng(image, { parameters: "a red fox\nSteps: 20, Sampler: DDIM, …" });
 * ```
 */
export async function encodePng(image: PngImage, text: Record<string, string> = {}): Promise<Uint8Array> {
  return assemblePng(image, await deflate(pngScanlines(image)), text);
}
