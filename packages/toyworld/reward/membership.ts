/**
 * How much of each pixel is a given object colour, read the way the renderer mixes colours: an
 * anti-aliased pixel is bg + α·(c − bg), so α is the projection of (x − bg) onto (c − bg), and what
 * that mix does not explain (the residual) says the pixel holds some other colour.
 *
 *   α(p) = clamp(((x_p − bg)·(c − bg)) / ‖c − bg‖², 0, 1)
 *   m(p) = α(p) · exp(−‖x_p − bg − α(p)·(c − bg)‖² / (2 · 0.12²))
 *
 * On a rendering m recovers the drawn coverage (up to the small colour jitter), so the shape fits
 * compare like with like even for 4-pixel objects.
 */
export const RESIDUAL_SIGMA = 0.12;

/** m(p) for every pixel of a CHW image with values in [0, 1] (`plane` = height · width). */
export function colourMembership(rgb: Float32Array, plane: number, colour: readonly number[], background: readonly number[]): Float32Array {
  const out = new Float32Array(plane);
  const d = [colour[0]! - background[0]!, colour[1]! - background[1]!, colour[2]! - background[2]!];
  const norm = d[0]! * d[0]! + d[1]! * d[1]! + d[2]! * d[2]!;
  const k = 1 / (2 * RESIDUAL_SIGMA * RESIDUAL_SIGMA);
  for (let p = 0; p < plane; p++) {
    const x = [rgb[p]! - background[0]!, rgb[plane + p]! - background[1]!, rgb[2 * plane + p]! - background[2]!];
    const alpha = Math.min(1, Math.max(0, (x[0]! * d[0]! + x[1]! * d[1]! + x[2]! * d[2]!) / norm));
    const r0 = x[0]! - alpha * d[0]!;
    const r1 = x[1]! - alpha * d[1]!;
    const r2 = x[2]! - alpha * d[2]!;
    out[p] = alpha * Math.exp(-(r0 * r0 + r1 * r1 + r2 * r2) * k);
  }
  return out;
}

/** exp(−‖x_p − c‖² / (2σ²)) for every pixel: how purely a pixel shows colour c. */
export function colourPurity(rgb: Float32Array, plane: number, colour: readonly number[], sigma: number): Float32Array {
  const out = new Float32Array(plane);
  const k = 1 / (2 * sigma * sigma);
  for (let p = 0; p < plane; p++) {
    const dr = rgb[p]! - colour[0]!;
    const dg = rgb[plane + p]! - colour[1]!;
    const db = rgb[2 * plane + p]! - colour[2]!;
    out[p] = Math.exp(-(dr * dr + dg * dg + db * db) * k);
  }
  return out;
}
