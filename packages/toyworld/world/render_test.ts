import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { fcRuns } from "@spo/wgpu-tensor/testing";
import { worldBatch } from "./dataset.ts";
import { allScenes, formatPrompt } from "./grammar.ts";
import { jitteredLayout, nominalLayout } from "./layout.ts";
import { IMAGE_SIZE, renderPrompt, renderScene } from "./render.ts";
import { WorldRandom } from "./rng.ts";
import { pixelCoverage } from "./shapes.ts";
import { BACKGROUNDS, JITTER } from "./vocabulary.ts";

const scenes = allScenes();
const arbScene = fc.integer({ min: 0, max: scenes.length - 1 }).map((i) => scenes[i]!);

describe("toy-world renderer", () => {
  test("images are CHW in [−1, 1], the same for the same seed and different for another", () => {
    fc.assert(
      fc.property(arbScene, fc.nat(1000), fc.constantFrom(8, 16, 20), (scene, seed, size) => {
        const image = renderScene(scene, { seed, size });
        assert.equal(image.length, 3 * size * size);
        assert.ok(image.every((v) => v >= -1 && v <= 1));
        assert.deepEqual(image, renderScene(scene, { seed, size }));
        assert.notDeepEqual(image, renderScene(scene, { seed: seed + 1, size }));
      }),
      { numRuns: fcRuns(30) },
    );
  });

  test("the corners far from every object show the background colour", () => {
    fc.assert(
      fc.property(arbScene, fc.nat(1000), (scene, seed) => {
        const image = renderScene(scene, { seed });
        const plane = IMAGE_SIZE * IMAGE_SIZE;
        const background = BACKGROUNDS[scene.background];
        const layout = nominalLayout(scene);
        for (const [x, y] of [
          [0, 0],
          [IMAGE_SIZE - 1, 0],
          [0, IMAGE_SIZE - 1],
          [IMAGE_SIZE - 1, IMAGE_SIZE - 1],
        ]) {
          const far = layout.every(
            (o) =>
              Math.abs((x + 0.5) / IMAGE_SIZE - o.cx) > o.side * 0.7 + 0.1 || Math.abs((y + 0.5) / IMAGE_SIZE - o.cy) > o.side * 0.7 + 0.1,
          );
          if (!far) continue;
          for (let c = 0; c < 3; c++) assert.ok(Math.abs((image[c * plane + y * IMAGE_SIZE + x]! + 1) / 2 - background[c]!) < 1e-6);
        }
      }),
      { numRuns: fcRuns(30) },
    );
  });

  test("edges are anti-aliased: a coverage between 0 and 1 is a mix of the two colours", () => {
    assert.equal(pixelCoverage("square", 2, 2, 2, 1, 1), 1);
    assert.equal(pixelCoverage("square", 2, 2, 2, 5, 5), 0);
    assert.equal(pixelCoverage("square", 2.5, 2, 2, 1, 1), 0.5); // the box spans x ∈ [1.5, 3.5]: half of pixel 1
    const circle = pixelCoverage("circle", 2, 2, 3, 0, 1);
    assert.ok(circle > 0 && circle < 1, `${circle}`);
    const image = renderPrompt("a large red circle in the center on a black background", { seed: 0 });
    const plane = IMAGE_SIZE * IMAGE_SIZE;
    const reds = Array.from({ length: plane }, (_, p) => (image[p]! + 1) / 2);
    assert.ok(
      reds.some((r) => r > 0.2 && r < 0.7),
      "some pixels are partly covered",
    );
  });

  test("jitter moves centres by at most JITTER.position and scales sides by at most 1 ± JITTER.size", () => {
    fc.assert(
      fc.property(arbScene, fc.nat(), (scene, seed) => {
        const nominal = nominalLayout(scene);
        const jittered = jitteredLayout(scene, new WorldRandom(seed));
        jittered.forEach((o, i) => {
          assert.ok(Math.abs(o.cx - nominal[i]!.cx) <= JITTER.position && Math.abs(o.cy - nominal[i]!.cy) <= JITTER.position);
          assert.ok(Math.abs(o.side / nominal[i]!.side - 1) <= JITTER.size + 1e-12);
        });
      }),
      { numRuns: fcRuns(50) },
    );
  });

  test("worldBatch is seeded by its index and holds prompts of its split", () => {
    const a = worldBatch(5, 4);
    assert.equal(a.samples.length, 4 * 3 * IMAGE_SIZE * IMAGE_SIZE);
    assert.deepEqual(a, worldBatch(5, 4));
    assert.notDeepEqual(a.samples, worldBatch(6, 4).samples);
    assert.ok(a.captions.every((c) => scenes.some((s) => formatPrompt(s) === c)));
    assert.throws(() => renderScene(scenes[0]!, { size: 2 }), RangeError);
  });
});
