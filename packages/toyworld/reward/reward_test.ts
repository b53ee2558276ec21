import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { fcRuns } from "@spo/wgpu-tensor/testing";
import { allScenes, formatPrompt } from "../world/grammar.ts";
import { UnknownWordError } from "../world/errors.ts";
import { IMAGE_SIZE, renderScene } from "../world/render.ts";
import { shapeCoverage } from "../world/shapes.ts";
import { SHAPES } from "../world/vocabulary.ts";
import { boxBlur, gaussianNoise, recoloured, removed, swapped, uniformNoise } from "./corruptions.ts";
import { RewardInputError } from "./errors.ts";
import { clampImage, reward, rewardBatch, rewardDetails } from "./reward.ts";
import { refinedFit } from "./templates.ts";

const S = IMAGE_SIZE;
const scenes = allScenes();
const pairs = scenes.filter((s) => s.kind === "pair");
const arbScene = fc.integer({ min: 0, max: scenes.length - 1 }).map((i) => scenes[i]!);
const arbPair = fc.integer({ min: 0, max: pairs.length - 1 }).map((i) => pairs[i]!);
// Fresh random seeds every run (fast-check prints the seed of a failure); SPO_FC_RUNS=1000 sweeps.
const fcOptions = { numRuns: fcRuns(8) };

describe("toy-world reward", () => {
  test("rendered ground truth scores near the top; uniform noise near the bottom", () => {
    const sample = Array.from({ length: 24 }, (_, i) => scenes[(i * 563) % scenes.length]!);
    const truth = sample.map((scene, i) => reward(renderScene(scene, { seed: i }), scene));
    const noise = sample.map((scene, i) => reward(uniformNoise(1000 + i), scene));
    const mean = (v: number[]) => v.reduce((a, b) => a + b) / v.length;
    assert.ok(
      truth.every((r) => r >= 0.55 && r <= 1),
      truth.join(" "),
    );
    assert.ok(mean(truth) > 0.8, `mean ground truth ${mean(truth)}`);
    assert.ok(
      noise.every((r) => r >= 0 && r < 0.3),
      noise.join(" "),
    );
  });

  test("a drawn shape fits its own template with Dice ≈ 1 and fits it better than the other shapes", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SHAPES),
        fc.double({ min: 5, max: 11, noNaN: true }),
        fc.double({ min: 5, max: 11, noNaN: true }),
        fc.double({ min: 3.6, max: 7.2, noNaN: true }),
        (shape, cx, cy, side) => {
          const coverage = shapeCoverage(shape, cx, cy, side, S, S);
          const fits = SHAPES.map((s) => refinedFit(coverage, s, S));
          const own = fits[SHAPES.indexOf(shape)]!;
          assert.ok(own.dice > 0.99, `${shape} (${cx}, ${cy}) side ${side}: Dice ${own.dice}`);
          assert.ok(Math.abs(own.template.side * S - side) < 0.35, `${shape} side ${side}: fitted ${own.template.side * S}`);
          for (const [i, f] of fits.entries())
            if (SHAPES[i] !== shape) assert.ok(f.dice < own.dice, `${shape} vs ${SHAPES[i]}: ${f.dice} ≥ ${own.dice}`);
        },
      ),
      fcOptions,
    );
  });

  test("a wrong colour lowers the reward", () => {
    fc.assert(
      fc.property(arbScene, fc.nat(1000), (scene, seed) => {
        assert.ok(reward(recoloured(scene, seed), scene) < reward(renderScene(scene, { seed }), scene) - 0.1, formatPrompt(scene));
      }),
      fcOptions,
    );
  });

  test("a missing object lowers the reward", () => {
    fc.assert(
      fc.property(arbScene, fc.nat(1000), fc.boolean(), (scene, seed, dropFirst) => {
        assert.ok(reward(removed(scene, seed, dropFirst), scene) < reward(renderScene(scene, { seed }), scene) - 0.1, formatPrompt(scene));
      }),
      fcOptions,
    );
  });

  test("swapped positions lower the reward", () => {
    fc.assert(
      fc.property(arbPair, fc.nat(1000), (scene, seed) => {
        assert.ok(reward(swapped(scene, seed), scene) < reward(renderScene(scene, { seed }), scene) - 0.1, formatPrompt(scene));
      }),
      fcOptions,
    );
  });

  test("blur and noise lower the reward", () => {
    fc.assert(
      fc.property(arbScene, fc.nat(1000), (scene, seed) => {
        const image = renderScene(scene, { seed });
        const clean = rewardDetails(image, scene);
        const blurred = rewardDetails(boxBlur(image), scene);
        const noisy = rewardDetails(gaussianNoise(image, 0.2, seed), scene);
        assert.ok(
          blurred.reward < clean.reward - 0.02 && blurred.crisp < clean.crisp,
          `blur: ${formatPrompt(scene)} ${blurred.reward} vs ${clean.reward}`,
        );
        assert.ok(
          noisy.reward < clean.reward - 0.05 && noisy.clean < clean.clean,
          `noise: ${formatPrompt(scene)} ${noisy.reward} vs ${clean.reward}`,
        );
      }),
      fcOptions,
    );
  });

  test("every term lies in [0, 1] and the reward is their documented mix", () => {
    fc.assert(
      fc.property(arbScene, fc.nat(1000), fc.double({ min: 0, max: 0.6, noNaN: true }), (scene, seed, sigma) => {
        const d = rewardDetails(gaussianNoise(renderScene(scene, { seed }), sigma, seed + 1), scene);
        for (const v of [
          d.reward,
          d.adherence,
          d.aesthetic,
          d.clean,
          d.crisp,
          d.contrast,
          ...d.objects.flatMap((o) => [o.presence, o.shape, o.size, o.place, o.score]),
        ])
          assert.ok(v >= 0 && v <= 1, `${v}`);
        const objects = d.objects.reduce((a, o) => a + (o.presence * (o.shape + o.size + o.place)) / 3, 0) / d.objects.length;
        assert.ok(Math.abs(d.adherence - objects) < 1e-12);
        assert.ok(Math.abs(d.aesthetic - (d.clean + d.crisp + d.contrast) / 3) < 1e-12);
        assert.ok(Math.abs(d.reward - (0.75 * d.adherence + 0.25 * d.aesthetic)) < 1e-12);
      }),
      fcOptions,
    );
  });

  test("images of the wrong size, range or type are refused with RewardInputError", () => {
    const prompt = "a large red circle in the center on a white background";
    const good = renderScene(scenes[0]!, { seed: 0 });
    assert.throws(() => reward(good.subarray(1), prompt), RewardInputError);
    assert.throws(() => reward(renderScene(scenes[0]!, { size: 8 }), prompt), /expected 3×16×16 = 768 values/);
    const bright = good.slice();
    bright[5] = 1.5;
    assert.throws(() => reward(bright, prompt), /outside \[−1, 1\].*clampImage/);
    const nan = good.slice();
    nan[0] = Number.NaN;
    assert.throws(() => reward(nan, prompt), RewardInputError);
    assert.throws(() => reward(Array.from(good) as unknown as Float32Array, prompt), RewardInputError);
    assert.equal(reward(clampImage(bright), prompt), reward(clampImage(bright), prompt));
    assert.throws(() => reward(good, "a small pink circle on the left on a white background"), UnknownWordError);
    assert.throws(() => rewardBatch(good, [prompt, prompt]), /2 prompts need/);
  });

  test("rewardBatch scores each image with its own prompt", () => {
    const two = [scenes[3]!, pairs[7]!];
    const images = two.map((s, i) => renderScene(s, { seed: i }));
    const batch = new Float32Array(2 * 3 * S * S);
    batch.set(images[0]!, 0);
    batch.set(images[1]!, 3 * S * S);
    assert.deepEqual(
      Array.from(rewardBatch(batch, two.map(formatPrompt))),
      two.map((s, i) => Math.fround(reward(images[i]!, s))),
    );
  });
});
