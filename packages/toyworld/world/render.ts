import { jitteredLayout, nominalLayout, type PlacedObject } from "./layout.ts";
import { parsePrompt } from "./parser.ts";
import { WorldRandom } from "./rng.ts";
import type { Scene } from "./scene.ts";
import { shapeCoverage } from "./shapes.ts";
import { type Background, BACKGROUNDS, COLOURS } from "./vocabulary.ts";

/** The side of the toy world's images in pixels (the shipped model's resolution). */
export const IMAGE_SIZE = 16;

/** Options of `renderScene`. */
export interface RenderOptions {
  /** Image side in pixels (default IMAGE_SIZE). */
  size?: number;
  /** Seed of the jitter (default 0). */
  seed?: number;
  /** Largest change of each colour channel, uniform (default 0.03). */
  colourJitter?: number;
  /** Jitter places, sizes and colours (default true); false draws the nominal layout exactly. */
  jitter?: boolean;
}

/**
 * Draws a scene: a plain background, then each object in prompt order (the second over the first),
 * with its centre and size jittered, its colour varied slightly and its edges anti-aliased
 * (coverage from 16 sub-samples per pixel). Returns CHW floats in [−1, 1] (the diffusion models'
 * range), `3 · size · size` values.
 *
 * @example
 * ```ts
 * const image = renderScene(parsePrompt("a large red circle in the center on a white background"), { seed: 1 });
 * image.length; // 3 · 16 · 16 = 768
 * ```
 */
export function renderScene(scene: Scene, options: RenderOptions = {}): Float32Array {
  const { seed = 0, jitter = true } = options;
  const random = new WorldRandom(seed);
  const layout = jitter ? jitteredLayout(scene, random) : nominalLayout(scene);
  return drawLayout(layout, scene.background, random, { ...options, colourJitter: jitter ? (options.colourJitter ?? 0.03) : 0 });
}

/**
 * Draws placed objects (in order, later over earlier) on a plain background, each colour moved by
 * up to `colourJitter` per channel with `random` (or exactly when 0). `renderScene` is this on a
 * scene's layout; tests use it to draw a layout with an object removed or moved.
 */
export function drawLayout(
  layout: readonly PlacedObject[],
  backgroundName: Background,
  random: WorldRandom,
  options: RenderOptions = {},
): Float32Array {
  const { size = IMAGE_SIZE, colourJitter = 0.03 } = options;
  if (!Number.isInteger(size) || size < 4)
    throw new RangeError(`Cannot render a toy-world scene: size must be an integer ≥ 4, got ${size}`);
  const plane = size * size;
  const rgb = new Float32Array(3 * plane);
  const background = BACKGROUNDS[backgroundName];
  for (let c = 0; c < 3; c++) rgb.fill(background[c]!, c * plane, (c + 1) * plane);
  for (const object of layout) {
    const colour = COLOURS[object.colour].map((v) => Math.min(1, Math.max(0, v + random.uniform(-colourJitter, colourJitter))));
    const coverage = shapeCoverage(object.shape, object.cx * size, object.cy * size, object.side * size, size, size);
    for (let p = 0; p < plane; p++) {
      const a = coverage[p]!;
      if (a === 0) continue;
      for (let c = 0; c < 3; c++) rgb[c * plane + p] = rgb[c * plane + p]! * (1 - a) + colour[c]! * a;
    }
  }
  for (let i = 0; i < rgb.length; i++) rgb[i] = rgb[i]! * 2 - 1;
  return rgb;
}

/** `renderScene(parsePrompt(prompt), options)`. */
export function renderPrompt(prompt: string, options: RenderOptions = {}): Float32Array {
  return renderScene(parsePrompt(prompt), options);
}
