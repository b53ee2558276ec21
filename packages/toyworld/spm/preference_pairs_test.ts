import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { fcRuns, testDevice } from "@spo/wgpu-tensor/testing";
import { reward } from "../reward/reward.ts";
import { allScenes, formatPrompt } from "../world/grammar.ts";
import { parsePrompt } from "../world/parser.ts";
import { IMAGE_SIZE, renderScene } from "../world/render.ts";
import { WorldRandom } from "../world/rng.ts";
import type { Scene } from "../world/scene.ts";
import { isHeldOut } from "../world/split.ts";
import { nearMiss, pairBatch, preferenceLabel, renderedPairs, sampledPairs, TIE_MARGIN } from "./preference_pairs.ts";

const VALUES = 3 * IMAGE_SIZE * IMAGE_SIZE;
const scenes = allScenes();

/** The scene's fields that differ from `b`'s (objects compared by value). */
function differences(a: Scene, b: Scene): string[] {
  const fields = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...fields].filter((f) => JSON.stringify((a as Record<string, unknown>)[f]) !== JSON.stringify((b as Record<string, unknown>)[f]));
}

describe("toy preference pairs", () => {
  test("labels: 1 or 0 when one reward wins by more than the margin, else a tie", () => {
    assert.equal(preferenceLabel(0.5, 0.5 - TIE_MARGIN * 1.5), 1);
    assert.equal(preferenceLabel(0.5 - TIE_MARGIN * 1.5, 0.5), 0);
    assert.equal(preferenceLabel(0.5, 0.5 - TIE_MARGIN / 2), 0.5);
    assert.equal(preferenceLabel(0.2, 0.9, 0), 0);
  });

  test("a near miss changes exactly one thing of the scene (or swaps the two objects)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: scenes.length - 1 }), fc.nat(), (index, seed) => {
        const scene = scenes[index]!;
        const changed = nearMiss(scene, new WorldRandom(seed));
        const fields = differences(scene, changed);
        const swapped = scene.kind === "pair" && changed.kind === "pair" && fields.length === 2 && changed.first === scene.second;
        assert.ok(fields.length === 1 || swapped, `${formatPrompt(scene)} → ${JSON.stringify(fields)}`);
        if (fields.length === 1 && fields[0] !== "first" && fields[0] !== "second")
          assert.notEqual(formatPrompt(changed), formatPrompt(scene));
      }),
      { numRuns: fcRuns(300) },
    );
  });

  test("rendered pairs come from training prompts, are labelled by the exact reward, and both sides win about as often", () => {
    const pairs = renderedPairs(96, { seed: 3 });
    assert.equal(pairs.labels.length, 96);
    assert.ok(pairs.prompts.every((p) => !isHeldOut(parsePrompt(p))));
    pairs.prompts.forEach((prompt, i) => {
      const a = reward(pairs.imagesA.subarray(i * VALUES, (i + 1) * VALUES), prompt);
      const b = reward(pairs.imagesB.subarray(i * VALUES, (i + 1) * VALUES), prompt);
      assert.equal(pairs.labels[i], preferenceLabel(a, b), `pair ${i}`);
    });
    const aWins = pairs.labels.filter((l) => l === 1).length;
    const bWins = pairs.labels.filter((l) => l === 0).length;
    assert.ok(aWins > 20 && bWins > 20, `A wins ${aWins}, B wins ${bWins}`);
    assert.deepEqual(renderedPairs(8, { seed: 3 }).labels, renderedPairs(8, { seed: 3 }).labels, "seeded");
    const held = renderedPairs(8, { seed: 3, split: "heldout" });
    assert.ok(held.prompts.every((p) => isHeldOut(parsePrompt(p))));
  });

  test("sampled pairs: every pair of each prompt's group, the group's own images, sides alternated", () => {
    const prompts = ["a large red circle in the center on a white background", "a small blue square at the top on a black background"];
    const group = 4;
    const images = new Float32Array(prompts.length * group * VALUES);
    // image j of group g: its rendering with seed j, tagged in its first value so the test can find it
    prompts.forEach((prompt, g) => {
      for (let j = 0; j < group; j++) {
        const image = renderScene(parsePrompt(prompt), { seed: j });
        image[0] = -1 + (g * 10 + j) / 100;
        images.set(image, (g * group + j) * VALUES);
      }
    });
    const pairs = sampledPairs(images, prompts, group);
    assert.equal(pairs.labels.length, prompts.length * ((group * (group - 1)) / 2));
    const seen = new Set<string>();
    pairs.prompts.forEach((prompt, i) => {
      const a = Math.round((pairs.imagesA[i * VALUES]! + 1) * 100);
      const b = Math.round((pairs.imagesB[i * VALUES]! + 1) * 100);
      const g = prompts.indexOf(prompt);
      assert.ok(Math.floor(a / 10) === g && Math.floor(b / 10) === g && a !== b, `pair ${i}: ${a} vs ${b} for group ${g}`);
      seen.add(`${Math.min(a, b)}-${Math.max(a, b)}`);
    });
    assert.equal(seen.size, pairs.labels.length, "no pair twice");
    assert.ok(
      pairs.prompts.some((_, i) => pairs.imagesA[i * VALUES]! > pairs.imagesB[i * VALUES]!),
      "sides alternate",
    );
    assert.throws(() => sampledPairs(images.subarray(VALUES), prompts, group), RangeError);
  });

  test("a pair batch wraps around the pair list", async () => {
    const pairs = renderedPairs(5, { seed: 1 });
    const batch = pairBatch(pairs, 4, 3, await testDevice());
    assert.deepEqual(batch.prompts, [pairs.prompts[4], pairs.prompts[0], pairs.prompts[1]]);
    assert.deepEqual(batch.labels, [pairs.labels[4], pairs.labels[0], pairs.labels[1]]);
    assert.deepEqual(batch.imagesA.shape, [3, 3, IMAGE_SIZE, IMAGE_SIZE]);
    batch.imagesA.dispose();
    batch.imagesB.dispose();
  });
});
