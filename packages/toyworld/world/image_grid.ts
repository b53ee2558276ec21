/** A grid of CHW images in [−1, 1] as RGBA bytes (nearest-neighbour upscaled by `scale`, 1-pixel gutters). */
export function imageGrid(
  images: readonly Float32Array[],
  options: { columns: number; size: number; scale?: number; gutter?: number },
): { width: number; height: number; data: Uint8ClampedArray<ArrayBuffer> } {
  const { columns, size, scale = 4, gutter = 2 } = options;
  const rows = Math.ceil(images.length / columns);
  const cell = size * scale + gutter;
  const width = columns * cell + gutter;
  const height = rows * cell + gutter;
  const data = new Uint8ClampedArray(new ArrayBuffer(width * height * 4)).fill(255);
  const plane = size * size;
  images.forEach((image, k) => {
    if (image.length !== 3 * plane)
      throw new RangeError(`Cannot draw image ${k} in a grid: expected 3×${size}×${size} values, got ${image.length}`);
    const x0 = gutter + (k % columns) * cell;
    const y0 = gutter + Math.floor(k / columns) * cell;
    for (let y = 0; y < size * scale; y++) {
      for (let x = 0; x < size * scale; x++) {
        const p = Math.floor(y / scale) * size + Math.floor(x / scale);
        const o = ((y0 + y) * width + x0 + x) * 4;
        for (let c = 0; c < 3; c++) data[o + c] = Math.round((Math.min(1, Math.max(-1, image[c * plane + p]!)) + 1) * 127.5);
      }
    }
  });
  return { width, height, data };
}
