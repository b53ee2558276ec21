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
  /** Σ coverage² (the template's term in the Dice denominator). */
  energy: number;
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
  let energy = 0;
  let [x0, y0, x1, y1] = [size, size, -1, -1];
  for (let py = Math.max(0, Math.floor(cy - h)); py <= Math.min(size - 1, Math.ceil(cy + h)); py++) {
    for (let px = Math.max(0, Math.floor(cx - h)); px <= Math.min(size - 1, Math.ceil(cx + h)); px++) {
      const a = pixelCoverage(shape, cx, cy, side, px, py);
      if (a > 0) {
        pixels.push(py * size + px);
        coverage.push(a);
        area += a;
        energy += a * a;
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
    energy,
    box: x1 < 0 ? [0, 0, 0, 0] : [x0, y0, x1, y1],
  };
}

/** The best soft-Dice fit of one shape to a membership map. */
export interface ShapeFit {
  /** 2·Σ m·T / (Σ m² + Σ T²), in [0, 1]. */
  dice: number;
  template: Template;
}

/**
 * Soft Dice in its squared form, 2·Σ m·T / (Σ m² + Σ T²): 1 exactly when the membership equals the
 * template's coverage, anti-aliased edges included (2·m·T ≤ m² + T² pixel by pixel). The linear
 * form 2·Σ m·T / (Σ m + Σ T) does not peak there: a fractional edge pixel counts less than a full
 * one, so a smaller template of another shape, lying inside the drawn one, can beat the exact
 * template (a jittered 6-pixel circle fitted a square better about one time in three).
 */
function dice(membership: Float32Array, energy: number, t: Template): number {
  let overlap = 0;
  for (let k = 0; k < t.pixels.length; k++) overlap += membership[t.pixels[k]!]! * t.coverage[k]!;
  return (2 * overlap) / (energy + t.energy);
}

/**
 * The template of `shape` that best matches `membership` (values in [0, 1] per pixel) by soft Dice.
 * Dice divides by the membership's whole energy Σ m², so colour elsewhere in the image (a second
 * blob, colour bleeding into the background) lowers the fit.
 */
export function bestFit(membership: Float32Array, shape: Shape, size: number, energy = sumOfSquares(membership)): ShapeFit {
  const templates = templatesFor(size).get(shape)!;
  const squares = integralImage(
    membership.map((v) => v * v),
    size,
  );
  let best = templates[0]!;
  let bestDice = -1;
  for (const t of templates) {
    // Cauchy–Schwarz: Σ m·T ≤ √(Σ_box m² · Σ T²), with Σ_box m² the membership's energy inside the
    // template's box: an upper bound on Dice that skips most templates without touching their pixels.
    const inBox = boxSum(squares, size, t.box);
    if ((2 * Math.sqrt(Math.max(0, inBox) * t.energy)) / (energy + t.energy) <= bestDice) continue;
    const d = dice(membership, energy, t);
    if (d > bestDice) {
      bestDice = d;
      best = t;
    }
  }
  return { dice: Math.max(0, bestDice), template: best };
}

/**
 * `bestFit`, then a local search in continuous centre and size from the better of two starts: the
 * grid's best template and the template whose area and centroid match the membership's near it
 * (`momentStart`). Steps of ¼, ⅛, 1⁄16 pixel and 4, 2, 1 % of the side, moving centre and size
 * together (26 neighbours), each kept while it improves Dice. The grid alone is too coarse for
 * 4-pixel shapes, where a quarter-pixel offset costs more Dice than the difference between two
 * shapes; and since coverage changes in quarter-pixel sample steps, Dice is a staircase on which a
 * search from the grid alone often stops a size step short.
 */
export function refinedFit(membership: Float32Array, shape: Shape, size: number): ShapeFit {
  const energy = sumOfSquares(membership);
  const coarse = bestFit(membership, shape, size, energy);
  const moment = momentStart(membership, shape, size, coarse.template.box);
  const start =
    moment && dice(membership, energy, moment) > coarse.dice ? { dice: dice(membership, energy, moment), template: moment } : coarse;
  let [cx, cy, side] = [start.template.cx * size, start.template.cy * size, start.template.side * size];
  let best = start;
  for (const [move, scale] of [
    [0.25, 0.04],
    [0.125, 0.02],
    [0.0625, 0.01],
  ] as const) {
    for (let round = 0, improved = true; improved && round < 8; round++) {
      improved = false;
      const [x0, y0, z0] = [cx, cy, side];
      for (const dx of STEPS) {
        for (const dy of STEPS) {
          for (const ds of STEPS) {
            if (dx === 0 && dy === 0 && ds === 0) continue;
            const t = makeTemplate(shape, x0 + dx * move, y0 + dy * move, z0 * (1 + ds * scale), size);
            const d = dice(membership, energy, t);
            if (d > best.dice + 1e-9) {
              best = { dice: d, template: t };
              [cx, cy, side] = [x0 + dx * move, y0 + dy * move, z0 * (1 + ds * scale)];
              improved = true;
            }
          }
        }
      }
    }
  }
  return best;
}

/** Area of a shape whose box has side 1, and how far below the box's centre its centroid lies (fraction of the side). */
const UNIT_SHAPE = { circle: { area: Math.PI / 4, drop: 0 }, square: { area: 1, drop: 0 }, triangle: { area: 0.5, drop: 1 / 6 } } as const;

/**
 * The template of `shape` with the membership's area and centroid, both measured within `box`
 * grown by two pixels (so that another blob further away does not count); undefined when that
 * window holds no membership.
 */
function momentStart(
  membership: Float32Array,
  shape: Shape,
  size: number,
  box: readonly [number, number, number, number],
): Template | undefined {
  let [mass, mx, my] = [0, 0, 0];
  for (let y = Math.max(0, box[1] - 2); y <= Math.min(size - 1, box[3] + 2); y++) {
    for (let x = Math.max(0, box[0] - 2); x <= Math.min(size - 1, box[2] + 2); x++) {
      const m = membership[y * size + x]!;
      mass += m;
      mx += m * (x + 0.5);
      my += m * (y + 0.5);
    }
  }
  if (mass < 1) return undefined;
  const unit = UNIT_SHAPE[shape];
  const side = Math.sqrt(mass / unit.area);
  return makeTemplate(shape, mx / mass, my / mass - unit.drop * side, side, size);
}

const STEPS = [-1, 0, 1] as const;

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

function sumOfSquares(values: Float32Array): number {
  let total = 0;
  for (const v of values) total += v * v;
  return total;
}
