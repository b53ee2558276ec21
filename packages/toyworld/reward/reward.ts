/**
 * The toy world's exact reward: how well an image shows what its prompt asks for, plus how clean
 * it looks. It plays the role of human preference in the SPO experiments.
 *
 * R = 0.75 · adherence + 0.25 · aesthetic, in [0, 1].
 *
 * Adherence (mean over the named objects). For object o of colour c_o on the named background, each
 * pixel's membership m(p) ∈ [0, 1] is how much of it is c_o mixed with the background (see
 * `colourMembership`: the projection onto the line from background to c_o, damped by what that
 * line does not explain; RGB in [0, 1]). Every shape s is fitted to m by squared soft
 * Dice D_s = 2 Σ m·T / (Σ m² + Σ T²) over anti-aliased templates T (every half-pixel centre and 14
 * sizes, 0.16 … 0.56 of the side, then a local search to 1⁄16 pixel, see `refinedFit`). D = 1 exactly
 * when m equals the template's coverage, edges included, and 1 − D = ‖m − T‖² / (‖m‖² + ‖T‖²) is
 * the fit's relative squared residual; Σ m² runs over the whole image, so stray colour lowers it. Then
 *   presence = 1 − √(1 − D_named)                              (the named colour is there, drawn as that one silhouette)
 *   shape    = σ(4 · (D_named − max_{s ≠ named} D_s) / margin)    (it fits the named shape better than the others)
 *   size     = exp(−max(0, |ln(side / calibrated side)| − 0.1)² / (2 · 0.15²))
 *   place    = single: exp(−max(0, ‖centre − nominal centre‖ − 0.06)² / (2 · 0.08²))
 *              pair:   σ((a − 0.25) / 0.05) · exp(−max(0, b − 0.08)² / (2 · 0.08²)), with a and b the
 *                      components of (first centre − second centre) along and across the relation
 *   object   = presence · (shape + size + place) / 3
 * (sizes and centres are those of the best fit of the named shape, as fractions of the side; `margin`
 * (at least 0.01) and `calibrated side` are what the same fit finds on an exact, unjittered rendering
 * of the named shape and size, see `fitCalibration`: at 16 pixels a small circle and a small square
 * differ by only a few pixels, so the shape term is judged against what a perfect drawing achieves).
 *
 * Aesthetic = (clean + crisp + contrast) / 3, over two regions: the object region R (every fitted
 * template's pixels, dilated by one pixel) and the background region (the rest):
 *   clean    = mean over the background region of exp(−‖x_p − background‖² / (2 · 0.1²))
 *   crisp    = mean over R of exp(−‖x_p − x̂_p‖² / (2 · 0.1²)), x̂ the fitted templates redrawn the
 *              renderer's way in the named colours: sharp, clean drawings score 1; blur's soft edges
 *              and noise score less, whatever the object's size
 *   contrast = mean over objects of min(1, ‖mean colour inside the fit − mean background colour‖ / ‖c_o − background‖)
 *
 * Rendered ground truth scores about 0.95 (colour jitter costs a little); soft blobs of the right
 * colours in the right places about 0.55; a blank canvas of the right colour about 0.13; uniform
 * noise about 0.07 (`corruption_table_node.ts` measures these).
 */
import { nominalLayout } from "../world/layout.ts";
import { parsePrompt } from "../world/parser.ts";
import { IMAGE_SIZE } from "../world/render.ts";
import { type Scene, sceneObjects } from "../world/scene.ts";
import { BACKGROUNDS, COLOURS, RELATIONS, SHAPES, type Shape } from "../world/vocabulary.ts";
import { fitCalibration } from "./calibration.ts";
import { RewardInputError } from "./errors.ts";
import { colourMembership, colourPurity } from "./membership.ts";
import { refinedFit, type Template } from "./templates.ts";

/** Weights and widths of the formula above. */
export const REWARD_CONSTANTS = {
  adherenceWeight: 0.75,
  pureSigma: 0.1,
  shapeSharpness: 4,
  sizeTolerance: 0.1,
  sizeSigma: 0.15,
  placeTolerance: 0.06,
  placeSigma: 0.08,
  relationMargin: 0.25,
  relationTemperature: 0.05,
} as const;

/** One object's terms. */
export interface ObjectScore {
  presence: number;
  shape: number;
  size: number;
  place: number;
  score: number;
  /** The best fit of the named shape: centre and side as fractions of the image side. */
  fit: { cx: number; cy: number; side: number; dice: number };
}

/** The reward and every term of it. */
export interface RewardDetails {
  reward: number;
  adherence: number;
  aesthetic: number;
  clean: number;
  crisp: number;
  contrast: number;
  objects: ObjectScore[];
}

/** Options of the reward functions. */
export interface RewardOptions {
  /** Image side in pixels (default IMAGE_SIZE). */
  size?: number;
}

/**
 * The reward of one image (CHW floats in [−1, 1], 3·size² values) for a prompt (text or parsed
 * scene). Throws RewardInputError for a wrong length, NaN or values outside [−1, 1] (clamp model
 * output first: `clampImage`), and the parser's errors for a prompt outside the grammar.
 *
 * @example
 * ```ts
 * const prompt = "a large red circle in the center on a white background";
 * reward(renderPrompt(prompt, { seed: 0 }), prompt); // ≈ 0.9
 * ```
 */
export function reward(image: Float32Array, prompt: string | Scene, options: RewardOptions = {}): number {
  return rewardDetails(image, prompt, options).reward;
}

/** The reward of each image of a batch [N, 3, size, size] for its prompt. */
export function rewardBatch(images: Float32Array, prompts: readonly (string | Scene)[], options: RewardOptions = {}): Float32Array {
  const size = options.size ?? IMAGE_SIZE;
  const per = 3 * size * size;
  if (images.length !== prompts.length * per) {
    throw new RewardInputError(
      `Cannot score a batch: ${prompts.length} prompts need ${prompts.length}×3×${size}×${size} = ${prompts.length * per} values, got ${images.length}`,
    );
  }
  return Float32Array.from(prompts, (prompt, i) => reward(images.subarray(i * per, (i + 1) * per), prompt, options));
}

/** The reward with all its terms (see the module documentation for the formula). */
export function rewardDetails(image: Float32Array, prompt: string | Scene, options: RewardOptions = {}): RewardDetails {
  const size = options.size ?? IMAGE_SIZE;
  checkImage(image, size);
  const scene = typeof prompt === "string" ? parsePrompt(prompt) : prompt;
  const plane = size * size;
  const rgb = Float32Array.from(image, (v) => (v + 1) / 2);
  const C = REWARD_CONSTANTS;
  const background = BACKGROUNDS[scene.background];
  const objects = sceneObjects(scene);
  const nominal = nominalLayout(scene);
  const memberships = objects.map((o) => colourMembership(rgb, plane, COLOURS[o.colour], background));
  const fits = objects.map((o, i) => {
    const m = memberships[i]!;
    const byShape = new Map(SHAPES.map((s) => [s, refinedFit(m, s, size)] as [Shape, ReturnType<typeof refinedFit>]));
    return { named: byShape.get(o.shape)!, other: Math.max(...SHAPES.filter((s) => s !== o.shape).map((s) => byShape.get(s)!.dice)) };
  });
  const relation = scene.kind === "pair" ? relationScore(fits[0]!.named.template, fits[1]!.named.template, RELATIONS[scene.relation]) : 1;
  const objectScores = objects.map((_, i): ObjectScore => {
    const { named, other } = fits[i]!;
    const t = named.template;
    const presence = 1 - Math.sqrt(Math.max(0, 1 - named.dice));
    const calibration = fitCalibration(objects[i]!.shape, objects[i]!.size, size);
    const shape = sigmoid((C.shapeSharpness * (named.dice - other)) / calibration.margin);
    const size_ = gaussianBeyond(Math.abs(Math.log(t.side / calibration.side)), C.sizeTolerance, C.sizeSigma);
    const place =
      scene.kind === "single"
        ? gaussianBeyond(Math.hypot(t.cx - nominal[i]!.cx, t.cy - nominal[i]!.cy), C.placeTolerance, C.placeSigma)
        : relation;
    return {
      presence,
      shape,
      size: size_,
      place,
      score: (presence * (shape + size_ + place)) / 3,
      fit: { cx: t.cx, cy: t.cy, side: t.side, dice: named.dice },
    };
  });
  const adherence = mean(objectScores.map((o) => o.score));

  // Aesthetic: the object region = every fitted template's pixels, dilated by one; the background region = the rest.
  const covered = new Uint8Array(plane);
  for (const { named } of fits) for (const p of named.template.pixels) covered[p] = 1;
  const objectMask = dilate(covered, size);
  const backgroundMask = objectMask.map((v) => 1 - v);
  const clean = maskedMean(colourPurity(rgb, plane, background, C.pureSigma), backgroundMask);
  const redraw = redrawFits(
    fits.map((f) => f.named.template),
    objects.map((o) => COLOURS[o.colour]),
    background,
    plane,
  );
  const crisp = maskedMean(closeness(rgb, redraw, plane, C.pureSigma), objectMask);
  const bgMean = maskedColour(rgb, plane, (p) => backgroundMask[p]!);
  const contrast = mean(
    objects.map((o, i) => {
      const t = fits[i]!.named.template;
      const inside = new Float32Array(plane);
      t.pixels.forEach((p, k) => (inside[p] = t.coverage[k]! >= 0.75 ? 1 : t.coverage[k]! * 0.25));
      const objMean = maskedColour(rgb, plane, (p) => inside[p]!);
      const target = distance(COLOURS[o.colour], background);
      return bgMean && objMean ? Math.min(1, distance(objMean, bgMean) / target) : 0;
    }),
  );
  const aesthetic = (clean + crisp + contrast) / 3;
  return {
    reward: C.adherenceWeight * adherence + (1 - C.adherenceWeight) * aesthetic,
    adherence,
    aesthetic,
    clean,
    crisp,
    contrast,
    objects: objectScores,
  };
}

/** Clamps model output into [−1, 1] (what turning it into an 8-bit picture does too); NaN stays NaN. */
export function clampImage(image: Float32Array): Float32Array {
  return image.map((v) => Math.min(1, Math.max(-1, v)));
}

function checkImage(image: Float32Array, size: number): void {
  if (!(image instanceof Float32Array))
    throw new RewardInputError(
      `Cannot score an image: expected a Float32Array (CHW in [−1, 1]), got ${Object.prototype.toString.call(image)}`,
    );
  if (!Number.isInteger(size) || size < 4) throw new RewardInputError(`Cannot score an image: size must be an integer ≥ 4, got ${size}`);
  if (image.length !== 3 * size * size) {
    throw new RewardInputError(`Cannot score an image: expected 3×${size}×${size} = ${3 * size * size} values (CHW), got ${image.length}`);
  }
  for (let i = 0; i < image.length; i++) {
    const v = image[i]!;
    if (!(v >= -1 - 1e-5 && v <= 1 + 1e-5)) {
      throw new RewardInputError(
        `Cannot score an image: value ${v} at index ${i} is outside [−1, 1] (clamp model output with clampImage first)`,
      );
    }
  }
}

function relationScore(first: Template, second: Template, direction: readonly [number, number]): number {
  const C = REWARD_CONSTANTS;
  const vx = first.cx - second.cx;
  const vy = first.cy - second.cy;
  const along = vx * direction[0] + vy * direction[1];
  const across = Math.abs(vx * direction[1] - vy * direction[0]);
  return sigmoid((along - C.relationMargin) / C.relationTemperature) * gaussianBeyond(across, C.placeTolerance + 0.02, C.placeSigma);
}

/** The fitted templates drawn the renderer's way (in prompt order, each over the last, coverage as opacity) in the named colours: CHW in [0, 1]. */
function redrawFits(
  templates: readonly Template[],
  colours: readonly (readonly number[])[],
  background: readonly number[],
  plane: number,
): Float32Array {
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) out.fill(background[c]!, c * plane, (c + 1) * plane);
  templates.forEach((t, i) => {
    const colour = colours[i]!;
    t.pixels.forEach((p, k) => {
      const a = t.coverage[k]!;
      for (let c = 0; c < 3; c++) out[c * plane + p] = out[c * plane + p]! * (1 - a) + colour[c]! * a;
    });
  });
  return out;
}

/** exp(−‖a_p − b_p‖² / (2σ²)) for every pixel of two CHW images. */
function closeness(a: Float32Array, b: Float32Array, plane: number, sigma: number): Float32Array {
  const out = new Float32Array(plane);
  const k = 1 / (2 * sigma * sigma);
  for (let p = 0; p < plane; p++) {
    const d0 = a[p]! - b[p]!;
    const d1 = a[plane + p]! - b[plane + p]!;
    const d2 = a[2 * plane + p]! - b[2 * plane + p]!;
    out[p] = Math.exp(-(d0 * d0 + d1 * d1 + d2 * d2) * k);
  }
  return out;
}

function dilate(mask: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(mask.length);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let on = 0;
      for (let dy = -1; dy <= 1 && !on; dy++) {
        for (let dx = -1; dx <= 1 && !on; dx++) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy >= 0 && yy < size && xx >= 0 && xx < size && mask[yy * size + xx]) on = 1;
        }
      }
      out[y * size + x] = on;
    }
  }
  return out;
}

function maskedMean(values: Float32Array, mask: ArrayLike<number>): number {
  let total = 0;
  let weight = 0;
  for (let p = 0; p < values.length; p++) {
    total += values[p]! * mask[p]!;
    weight += mask[p]!;
  }
  return weight > 0 ? total / weight : 0;
}

function maskedColour(rgb: Float32Array, plane: number, weightOf: (p: number) => number): number[] | undefined {
  const sum = [0, 0, 0];
  let weight = 0;
  for (let p = 0; p < plane; p++) {
    const w = weightOf(p);
    if (w === 0) continue;
    for (let c = 0; c < 3; c++) sum[c]! += rgb[c * plane + p]! * w;
    weight += w;
  }
  return weight > 0 ? sum.map((v) => v / weight) : undefined;
}

function distance(a: readonly number[], b: readonly number[]): number {
  return Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!);
}

function gaussianBeyond(value: number, tolerance: number, sigma: number): number {
  const excess = Math.max(0, value - tolerance);
  return Math.exp(-(excess * excess) / (2 * sigma * sigma));
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
