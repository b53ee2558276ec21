import type { Shape } from "./vocabulary.ts";

/** Sub-samples per pixel side used for anti-aliased coverage (4 × 4 = 16 per pixel). */
export const SUPERSAMPLING = 4;

/**
 * Whether the point (x, y) lies inside `shape` centred at (cx, cy) whose box has side `side`
 * (all in the same units; y grows downwards). The triangle is upright: apex at the top centre of
 * the box, base along its bottom edge.
 */
export function insideShape(shape: Shape, cx: number, cy: number, side: number, x: number, y: number): boolean {
  const h = side / 2;
  const dx = x - cx;
  const dy = y - cy;
  switch (shape) {
    case "circle":
      return dx * dx + dy * dy <= h * h;
    case "square":
      return Math.abs(dx) <= h && Math.abs(dy) <= h;
    case "triangle":
      return dy <= h && dy >= -h && Math.abs(dx) <= (dy + h) / 2;
  }
}

/**
 * The fraction of pixel (px, py) (the unit square with corner (px, py)) that `shape` covers,
 * estimated on a SUPERSAMPLING² grid of sample points: the renderer's anti-aliasing and the
 * reward's templates both use it.
 */
export function pixelCoverage(shape: Shape, cx: number, cy: number, side: number, px: number, py: number): number {
  const h = side / 2;
  // Far from the box: nothing; the box's bound is cheap to test and most pixels fail it.
  if (px + 1 < cx - h || px > cx + h || py + 1 < cy - h || py > cy + h) return 0;
  let inside = 0;
  for (let sy = 0; sy < SUPERSAMPLING; sy++) {
    for (let sx = 0; sx < SUPERSAMPLING; sx++) {
      if (insideShape(shape, cx, cy, side, px + (sx + 0.5) / SUPERSAMPLING, py + (sy + 0.5) / SUPERSAMPLING)) inside++;
    }
  }
  return inside / (SUPERSAMPLING * SUPERSAMPLING);
}

/**
 * The coverage of `shape` on an image of `width` × `height` pixels (row-major), centre and side in
 * pixels.
 */
export function shapeCoverage(shape: Shape, cx: number, cy: number, side: number, width: number, height: number): Float32Array {
  const out = new Float32Array(width * height);
  const h = side / 2;
  const y0 = Math.max(0, Math.floor(cy - h));
  const y1 = Math.min(height - 1, Math.ceil(cy + h));
  const x0 = Math.max(0, Math.floor(cx - h));
  const x1 = Math.min(width - 1, Math.ceil(cx + h));
  for (let py = y0; py <= y1; py++) {
    for (let px = x0; px <= x1; px++) out[py * width + px] = pixelCoverage(shape, cx, cy, side, px, py);
  }
  return out;
}
