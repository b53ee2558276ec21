/**
 * Labelled preference pairs for the toy preference models, judged by the exact reward (the toy
 * world's stand-in for human raters). Two sources, mirroring SPO's recipe:
 * - rendered pairs (the PickScore stage): the prompt's own rendering against near misses (one
 *   attribute changed, objects swapped) and degraded copies (blurred, noisy): thousands of pairs
 *   that cost no UNet call and teach the model what the prompt asks for;
 * - sampled pairs (the SPM stage): two base-model samples of the same prompt, as SPO labels its
 *   generated pairs.
 */
import type { PairBatch } from "@spo/step-preference-model";
import { type Device, tensor } from "@spo/wgpu-tensor";
import { boxBlur, gaussianNoise } from "../reward/corruptions.ts";
import { rewardBatch } from "../reward/reward.ts";
import { formatPrompt } from "../world/grammar.ts";
import { IMAGE_SIZE, renderScene } from "../world/render.ts";
import { WorldRandom } from "../world/rng.ts";
import type { Scene, SceneObject } from "../world/scene.ts";
import { sampleScenes, type Split } from "../world/split.ts";
import { BACKGROUND_NAMES, COLOUR_NAMES, POSITION_NAMES, RELATION_NAMES, SHAPES, SIZE_NAMES } from "../world/vocabulary.ts";

/** Pairs on the host: image i of each side is `imageSize` floats at offset i · imageSize. */
export interface HostPairs {
  imagesA: Float32Array;
  imagesB: Float32Array;
  prompts: string[];
  /** 1: A preferred, 0: B preferred, 0.5: a tie. */
  labels: number[];
  rewardsA: number[];
  rewardsB: number[];
}

/** Reward differences at most this big are ties (the reward's jitter between two good renderings is about this). */
export const TIE_MARGIN = 0.02;

/** The label of a pair from its two rewards: 1 if A wins by more than the margin, 0 if B does, else 0.5. */
export function preferenceLabel(rewardA: number, rewardB: number, tieMargin = TIE_MARGIN): number {
  if (rewardA - rewardB > tieMargin) return 1;
  if (rewardB - rewardA > tieMargin) return 0;
  return 0.5;
}

const IMAGE_VALUES = 3 * IMAGE_SIZE * IMAGE_SIZE;

function other<T>(random: WorldRandom, items: readonly T[], current: T): T {
  const rest = items.filter((item) => item !== current);
  return random.pick(rest);
}

function mutateObject(random: WorldRandom, object: SceneObject): SceneObject {
  switch (random.int(3)) {
    case 0:
      return { ...object, colour: other(random, COLOUR_NAMES, object.colour) };
    case 1:
      return { ...object, shape: other(random, SHAPES, object.shape) };
    default:
      return { ...object, size: other(random, SIZE_NAMES, object.size) };
  }
}

/** The scene with one thing changed: an object's colour, shape or size, the place or relation, the background, or the two objects swapped. */
export function nearMiss(scene: Scene, random: WorldRandom): Scene {
  const choice = random.int(4);
  if (choice === 0) return { ...scene, background: other(random, BACKGROUND_NAMES, scene.background) };
  if (scene.kind === "single") {
    if (choice === 1) return { ...scene, position: other(random, POSITION_NAMES, scene.position) };
    return { ...scene, object: mutateObject(random, scene.object) };
  }
  if (choice === 1)
    return random.next() < 0.5
      ? { ...scene, relation: other(random, RELATION_NAMES, scene.relation) }
      : { ...scene, first: scene.second, second: scene.first };
  return random.next() < 0.5
    ? { ...scene, first: mutateObject(random, scene.first) }
    : { ...scene, second: mutateObject(random, scene.second) };
}

/** One image for a scene's prompt: its rendering or a near miss, degraded or not. */
function candidate(scene: Scene, random: WorldRandom): Float32Array {
  const seed = random.int(2 ** 31);
  const image = renderScene(random.next() < 0.4 ? scene : nearMiss(scene, random), { seed });
  const degrade = random.next();
  if (degrade < 0.2) return boxBlur(image);
  if (degrade < 0.4) return gaussianNoise(image, random.uniform(0.05, 0.3), random.int(2 ** 31));
  return image;
}

/** Options of `renderedPairs`. */
export interface RenderedPairsOptions {
  /** Which prompts (default "train"). */
  split?: Split;
  seed?: number;
  tieMargin?: number;
}

/**
 * `count` rendered pairs, one prompt each: both sides are the prompt's rendering or a near miss,
 * sometimes blurred or noisy, labelled by the exact reward.
 *
 * @example
 * ```ts
 * const pairs = renderedPairs(256, { seed: 1 }); // pairs.labels: 1, 0 or 0.5
 * ```
 */
export function renderedPairs(count: number, options: RenderedPairsOptions = {}): HostPairs {
  const { split = "train", seed = 0, tieMargin = TIE_MARGIN } = options;
  const scenes = sampleScenes(count, { split, seed });
  const random = new WorldRandom(seed ^ 0x5bd1e995);
  const imagesA = new Float32Array(count * IMAGE_VALUES);
  const imagesB = new Float32Array(count * IMAGE_VALUES);
  scenes.forEach((scene, i) => {
    imagesA.set(candidate(scene, random), i * IMAGE_VALUES);
    imagesB.set(candidate(scene, random), i * IMAGE_VALUES);
  });
  return labelled(imagesA, imagesB, scenes.map(formatPrompt), tieMargin);
}

/**
 * Every pair of images within each prompt's group of samples: `images` holds `groupSize`
 * consecutive samples per prompt (`prompts[g]` for group g), giving groupSize·(groupSize − 1)/2
 * pairs per prompt, labelled by the exact reward.
 */
export function sampledPairs(images: Float32Array, prompts: readonly string[], groupSize: number, tieMargin = TIE_MARGIN): HostPairs {
  if (images.length !== prompts.length * groupSize * IMAGE_VALUES)
    throw new RangeError(
      `Cannot pair samples: ${images.length} values for ${prompts.length} prompts × ${groupSize} samples of ${IMAGE_VALUES}`,
    );
  const a: Float32Array[] = [];
  const b: Float32Array[] = [];
  const pairPrompts: string[] = [];
  prompts.forEach((prompt, g) => {
    const sample = (j: number) => images.subarray((g * groupSize + j) * IMAGE_VALUES, (g * groupSize + j + 1) * IMAGE_VALUES);
    for (let i = 0; i < groupSize; i++)
      for (let j = i + 1; j < groupSize; j++) {
        // alternate the sides so "A wins" is not a position the model could learn
        const flip = (i + j + g) % 2 === 1;
        a.push(sample(flip ? j : i));
        b.push(sample(flip ? i : j));
        pairPrompts.push(prompt);
      }
  });
  const join = (parts: Float32Array[]) => {
    const out = new Float32Array(parts.length * IMAGE_VALUES);
    parts.forEach((p, i) => out.set(p, i * IMAGE_VALUES));
    return out;
  };
  return labelled(join(a), join(b), pairPrompts, tieMargin);
}

function labelled(imagesA: Float32Array, imagesB: Float32Array, prompts: string[], tieMargin: number): HostPairs {
  const rewardsA = Array.from(rewardBatch(imagesA, prompts));
  const rewardsB = Array.from(rewardBatch(imagesB, prompts));
  const labels = rewardsA.map((r, i) => preferenceLabel(r, rewardsB[i]!, tieMargin));
  return { imagesA, imagesB, prompts, labels, rewardsA, rewardsB };
}

/** Pairs `start … start + count − 1` (wrapping around) as a `PairBatch` on the device. */
export function pairBatch(pairs: HostPairs, start: number, count: number, device?: Device): PairBatch {
  const total = pairs.prompts.length;
  const rows = Array.from({ length: count }, (_, i) => (start + i) % total);
  const gather = (images: Float32Array) => {
    const out = new Float32Array(count * IMAGE_VALUES);
    rows.forEach((r, i) => out.set(images.subarray(r * IMAGE_VALUES, (r + 1) * IMAGE_VALUES), i * IMAGE_VALUES));
    return tensor(out, [count, 3, IMAGE_SIZE, IMAGE_SIZE], { device });
  };
  return {
    imagesA: gather(pairs.imagesA),
    imagesB: gather(pairs.imagesB),
    prompts: rows.map((r) => pairs.prompts[r]!),
    labels: rows.map((r) => pairs.labels[r]!),
  };
}
