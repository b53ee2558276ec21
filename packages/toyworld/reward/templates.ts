import { pixelCoverage } from "../world/shapes.ts";
import { SHAPES, type Shape } from "../world/vocabulary.ts";

/** The sizes (fractions of the image side) the reward tries for each shape: 0.16 · 1.1^k, k = 0 … 13. */
export const TEMPLATE_SIZES: readonly number[] = Array.from({ length: 14 }, (_, k) => 0.16 * 1.1 ** k);

/** One anti-aliased silhouette at one place and size: the pixels it touches and its coverage there. */
export interface Template {
  /** Centre and side as fractions of the image side. */
  cx: number;
  cy: number;
  side: number;
  pixels: Int32Array;
  coverage: Float32Array;
  /** Σ coverage. */
  area: number;
  /** Inclusive pixel box [x0, y0, x1, y1] holding every touched pixel. */
  box: readonly [number, number, number, number];
}

const cache = new Map<number, Map<Shape, Template[]>>();

/**
 * Every template of every shape for images of side `size`: centres on a half-pixel grid over the
 * whole image, sides from TEMPLATE_SIZES. Built once per size and cached (image-independent).
 */
export function templatesFor(size: number): Map<Shape, Template[]> {
  let byShape = cache.get(size);
  if (byShape) return byShape;
  byShape = new Map();
  for (const shape of SHAPES) {
    const list: Template[] = [];
    for (const side of TEMPLATE_SIZES) {
      for (let gy = 0; gy <= 2 * size; gy++) {
        for (let gx = 0; gx <= 2 * size; gx++) list.push(makeTemplate(shape, gx / 2, gy / 2, side * size, size));
      }
    }
    byShape.set(shape, list);
  }
  cache.set(size, byShape);
  return byShape;
}

function makeTemplate(shape: Shape, cx: number, cy: number, side: number, size: number): Template {
  const h = side / 2;
  const pixels: number[] = [];
  const coverage: number[] = [];
  let area = 0;
  let [x0, y0, x1, y1] = [size, size, -1, -1];
  for (let py = Math.max(0, Math.floor(cy - h)); py <= Math.min(size - 1, Math.ceil(cy + h)); py++) {
    for (let px = Math.max(0, Math.floor(cx - h)); px <= Math.min(size - 1, Math.ceil(cx + h)); px++) {
      const a = pixelCoverage(shape, cx, cy, side, px, py);
      if (a > 0) {
        pixels.push(py * size + px);
        coverage.push(a);
        area += a;
        x0 = Math.min(x0, px);
        y0 = Math.min(y0, py);
        x1 = Math.max(x1, px);
        y1 = Math.max(y1, py);
      }
    }
  }
  return {
    cx: cx / size,
    cy: cy / size,
    side: side / size,
    pixels: Int32Array.from(pixels),
    coverage: Float32Array.from(coverage),
    area,
    box: x1 < 0 ? [0, 0, 0, 0] : [x0, y0, x1, y1],
  };
}

/** The best soft-Dice fit of one shape to a membership map. */
export interface ShapeFit {
  /** 2·Σ m·T / (Σ m + Σ T), in [0, 1]. */
  dice: number;
  template: Template;
}

/**
 * The template of `shape` that best matches `membership` (values in [0, 1] per pixel) by soft Dice.
 * Dice divides by the membership's whole mass, so colour elsewhere in the image (a second blob,
 * colour bleeding into the background) lowers the fit.
 */
export function bestFit(membership: Float32Array, shape: Shape, size: number, mass = sum(membership)): ShapeFit {
  const templates = templatesFor(size).get(shape)!;
  const integral = integralImage(membership, size);
  let best = templates[0]!;
  let bestDice = -1;
  for (const t of templates) {
    // Coverage is at most 1, so the overlap is at most the membership inside the template's box:
    // an upper bound on Dice that skips most templates without touching their pixels.
    const inBox = boxSum(integral, size, t.box);
    if ((2 * Math.min(inBox, t.area)) / (mass + t.area) <= bestDice) continue;
    let overlap = 0;
    for (let k = 0; k < t.pixels.length; k++) overlap += membership[t.pixels[k]!]! * t.coverage[k]!;
    const dice = (2 * overlap) / (mass + t.area);
    if (dice > bestDice) {
      bestDice = dice;
      best = t;
    }
  }
  return { dice: Math.max(0, bestDice), template: best };
}

/**
 * `bestFit`, then a local search in continuous centre and size (steps of ¼, ⅛, 1⁄16 pixel and 4, 2,
 * 1 % of the side, each kept while it improves Dice): the grid alone is too coarse for 4-pixel
 * shapes, where a quarter-pixel offset costs more Dice than the difference between two shapes.
 */
export function refinedFit(membership: Float32Array, shape: Shape, size: number): ShapeFit {
  const mass = sum(membership);
  const coarse = bestFit(membership, shape, size, mass);
  let [cx, cy, side] = [coarse.template.cx * size, coarse.template.cy * size, coarse.template.side * size];
  let best = coarse;
  const diceOf = (t: Template) => {
    let overlap = 0;
    for (let k = 0; k < t.pixels.length; k++) overlap += membership[t.pixels[k]!]! * t.coverage[k]!;
    return (2 * overlap) / (mass + t.area);
  };
  for (const [move, scale] of [
    [0.25, 0.04],
    [0.125, 0.02],
    [0.0625, 0.01],
  ] as const) {
    for (let round = 0, improved = true; improved && round < 4; round++) {
      improved = false;
      const candidates: [number, number, number][] = [
        [cx + move, cy, side],
        [cx - move, cy, side],
        [cx, cy + move, side],
        [cx, cy - move, side],
        [cx, cy, side * (1 + scale)],
        [cx, cy, side * (1 - scale)],
      ];
      for (const [x, y, z] of candidates) {
        const t = makeTemplate(shape, x, y, z, size);
        const dice = diceOf(t);
        if (dice > best.dice + 1e-9) {
          best = { dice, template: t };
          [cx, cy, side] = [x, y, z];
          improved = true;
        }
      }
    }
  }
  return best;
}

/** Prefix sums with a zero row and column: entry (y, x) = Σ values above and left of (y, x). */
function integralImage(values: Float32Array, size: number): Float64Array {
  const w = size + 1;
  const out = new Float64Array(w * w);
  for (let y = 0; y < size; y++) {
    let row = 0;
    for (let x = 0; x < size; x++) {
      row += values[y * size + x]!;
      out[(y + 1) * w + x + 1] = out[y * w + x + 1]! + row;
    }
  }
  return out;
}

function boxSum(integral: Float64Array, size: number, [x0, y0, x1, y1]: readonly [number, number, number, number]): number {
  const w = size + 1;
  return integral[(y1 + 1) * w + x1 + 1]! - integral[y0 * w + x1 + 1]! - integral[(y1 + 1) * w + x0]! + integral[y0 * w + x0]!;
}

function sum(values: Float32Array): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}
