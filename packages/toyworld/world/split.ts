import { allScenes } from "./grammar.ts";
import { WorldRandom } from "./rng.ts";
import { type Scene, sceneObjects } from "./scene.ts";
import type { Colour, Shape } from "./vocabulary.ts";

/**
 * Colour–shape pairs that never occur in training prompts. A held-out prompt names at least one of
 * them, so it is a combination the model has never been shown (it knows "blue" and "circle", never
 * "blue circle"): evaluation on them measures composition, not memory.
 */
export const HELD_OUT_PAIRS: readonly (readonly [Colour, Shape])[] = [
  ["red", "triangle"],
  ["green", "square"],
  ["blue", "circle"],
  ["yellow", "triangle"],
];

/** Whether the scene names a held-out colour–shape pair. */
export function isHeldOut(scene: Scene): boolean {
  return sceneObjects(scene).some((o) => HELD_OUT_PAIRS.some(([colour, shape]) => o.colour === colour && o.shape === shape));
}

export type Split = "train" | "heldout";

let cached: { train: Scene[]; heldout: Scene[] } | undefined;

/** All scenes of one split (train: 8,196; held out: 5,304). */
export function scenesOf(split: Split): readonly Scene[] {
  if (!cached) {
    const all = allScenes();
    cached = { train: all.filter((s) => !isHeldOut(s)), heldout: all.filter(isHeldOut) };
  }
  return cached[split];
}

/** Options of `sampleScenes`. */
export interface SampleScenesOptions {
  /** Which split to draw from (default "train"). */
  split?: Split;
  /** Seed of the draw (default 0). */
  seed?: number;
  /** Fraction of single-object scenes (default 0.4; the rest are pairs). */
  singleFraction?: number;
}

/**
 * `count` scenes drawn with replacement from one split, singles and pairs mixed by `singleFraction`
 * (pairs outnumber singles 24 to 1 in the grammar, so a uniform draw would almost never ask for one
 * object). The same seed gives the same scenes.
 */
export function sampleScenes(count: number, options: SampleScenesOptions = {}): Scene[] {
  const { split = "train", seed = 0, singleFraction = 0.4 } = options;
  if (!Number.isInteger(count) || count < 0)
    throw new RangeError(`Cannot sample scenes: count must be a non-negative integer, got ${count}`);
  if (!(singleFraction >= 0 && singleFraction <= 1))
    throw new RangeError(`Cannot sample scenes: singleFraction must be in [0, 1], got ${singleFraction}`);
  const scenes = scenesOf(split);
  const singles: Scene[] = scenes.filter((s) => s.kind === "single");
  const pairs: Scene[] = scenes.filter((s) => s.kind === "pair");
  const random = new WorldRandom(seed);
  return Array.from({ length: count }, () => random.pick(random.next() < singleFraction ? singles : pairs));
}
