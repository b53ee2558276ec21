import type { WorldRandom } from "./rng.ts";
import type { Scene } from "./scene.ts";
import { type Colour, COLOURS, JITTER, PAIR_SEPARATION, POSITIONS, RELATIONS, type Shape, SIZES } from "./vocabulary.ts";

/** An object where the renderer puts it: centre and side as fractions of the image side. */
export interface PlacedObject {
  shape: Shape;
  colour: Colour;
  cx: number;
  cy: number;
  side: number;
}

/**
 * The nominal place of each object of a scene (no jitter), in prompt order: a lone object at its
 * position; a pair centred on the image, PAIR_SEPARATION apart along the relation's direction, the
 * first object on the relation's side.
 */
export function nominalLayout(scene: Scene): PlacedObject[] {
  if (scene.kind === "single") {
    const [cx, cy] = POSITIONS[scene.position];
    return [{ shape: scene.object.shape, colour: scene.object.colour, cx, cy, side: SIZES[scene.object.size] }];
  }
  const [dx, dy] = RELATIONS[scene.relation];
  const half = PAIR_SEPARATION / 2;
  return [
    { shape: scene.first.shape, colour: scene.first.colour, cx: 0.5 + dx * half, cy: 0.5 + dy * half, side: SIZES[scene.first.size] },
    { shape: scene.second.shape, colour: scene.second.colour, cx: 0.5 - dx * half, cy: 0.5 - dy * half, side: SIZES[scene.second.size] },
  ];
}

/** The nominal layout with each centre moved by up to ±JITTER.position per axis and each side scaled by 1 ± JITTER.size. */
export function jitteredLayout(scene: Scene, random: WorldRandom): PlacedObject[] {
  return nominalLayout(scene).map((o) => ({
    ...o,
    cx: o.cx + random.uniform(-JITTER.position, JITTER.position),
    cy: o.cy + random.uniform(-JITTER.position, JITTER.position),
    side: o.side * random.uniform(1 - JITTER.size, 1 + JITTER.size),
  }));
}

/** The RGB of a colour name (in [0, 1]). */
export function colourRgb(colour: Colour): readonly [number, number, number] {
  return COLOURS[colour];
}
