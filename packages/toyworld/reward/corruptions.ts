/**
 * Ground truth and the ways of spoiling it that the reward must notice: each takes a scene and a
 * jitter seed and draws the image `renderScene(scene, { seed })` would, changed in one way. The
 * reward's property tests and its corruption table (`corruption_table_node.ts`) share them.
 */
import { jitteredLayout, type PlacedObject } from "../world/layout.ts";
import { drawLayout, IMAGE_SIZE } from "../world/render.ts";
import { WorldRandom } from "../world/rng.ts";
import { type Scene, sceneObjects } from "../world/scene.ts";
import { COLOUR_NAMES } from "../world/vocabulary.ts";

/** The scene's jittered layout as `renderScene(scene, { seed })` draws it. */
export function groundTruthLayout(scene: Scene, seed: number): PlacedObject[] {
  return jitteredLayout(scene, new WorldRandom(seed));
}

/** Draws `layout` with the colour jitter `renderScene(scene, { seed })` would use. */
export function drawWithSeed(scene: Scene, layout: readonly PlacedObject[], seed: number, size = IMAGE_SIZE): Float32Array {
  const random = new WorldRandom(seed);
  jitteredLayout(scene, random); // the same stream position as renderScene's colour jitter
  return drawLayout(layout, scene.background, random, { size });
}

/** The first object drawn in a colour the scene does not use. */
export function recoloured(scene: Scene, seed: number): Float32Array {
  const layout = groundTruthLayout(scene, seed);
  const used = new Set(sceneObjects(scene).map((o) => o.colour));
  const other = COLOUR_NAMES.find((c) => !used.has(c))!;
  return drawWithSeed(scene, [{ ...layout[0]!, colour: other }, ...layout.slice(1)], seed);
}

/** One object left out (the first, or the second of a pair when `dropFirst` is false): a lone object leaves a blank canvas. */
export function removed(scene: Scene, seed: number, dropFirst = true): Float32Array {
  const layout = groundTruthLayout(scene, seed);
  const kept = scene.kind === "single" ? [] : dropFirst ? layout.slice(1) : layout.slice(0, 1);
  return drawWithSeed(scene, kept, seed);
}

/** A pair with the two centres exchanged (each object keeps its colour, shape and size). */
export function swapped(scene: Scene, seed: number): Float32Array {
  if (scene.kind !== "pair") throw new RangeError("Cannot swap the objects of a single-object scene");
  const [a, b] = groundTruthLayout(scene, seed) as [PlacedObject, PlacedObject];
  return drawWithSeed(
    scene,
    [
      { ...a, cx: b.cx, cy: b.cy },
      { ...b, cx: a.cx, cy: a.cy },
    ],
    seed,
  );
}

/** Every object drawn as a soft round blob of its colour at its place (a circle of its size, box-blurred twice): right colours and places, no shapes, no edges. */
export function blobs(scene: Scene, seed: number): Float32Array {
  const round = groundTruthLayout(scene, seed).map((o) => ({ ...o, shape: "circle" as const }));
  return boxBlur(boxBlur(drawWithSeed(scene, round, seed)));
}

/** The named background alone. */
export function blank(scene: Scene, seed: number): Float32Array {
  return drawWithSeed(scene, [], seed);
}

/** A 3 × 3 box blur of a CHW image (the mean over the neighbours inside the image). */
export function boxBlur(image: Float32Array, size = IMAGE_SIZE): Float32Array {
  const out = new Float32Array(image.length);
  const plane = size * size;
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        let total = 0;
        let count = 0;
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            if (y + dy < 0 || y + dy >= size || x + dx < 0 || x + dx >= size) continue;
            total += image[c * plane + (y + dy) * size + x + dx]!;
            count++;
          }
        }
        out[c * plane + y * size + x] = total / count;
      }
    }
  }
  return out;
}

/** Gaussian noise of standard deviation `sigma` added to every value (Box–Muller, seeded), clamped to [−1, 1]. */
export function gaussianNoise(image: Float32Array, sigma: number, seed: number): Float32Array {
  const random = new WorldRandom(seed);
  return image.map((v) => {
    const n = Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
    return Math.min(1, Math.max(-1, v + sigma * n));
  });
}

/** Uniform noise in [−1, 1] (no picture at all). */
export function uniformNoise(seed: number, size = IMAGE_SIZE): Float32Array {
  const random = new WorldRandom(seed);
  return Float32Array.from({ length: 3 * size * size }, () => random.uniform(-1, 1));
}
