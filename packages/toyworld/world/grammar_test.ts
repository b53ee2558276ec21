import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { fcRuns } from "@spo/wgpu-tensor/testing";
import { MalformedPromptError, PromptParseError, UnknownWordError } from "./errors.ts";
import { allScenes, formatPrompt } from "./grammar.ts";
import { parsePrompt } from "./parser.ts";
import { HELD_OUT_PAIRS, isHeldOut, sampleScenes, scenesOf } from "./split.ts";
import { sceneObjects } from "./scene.ts";

const scenes = allScenes();
const arbScene = fc.integer({ min: 0, max: scenes.length - 1 }).map((i) => scenes[i]!);

describe("toy-world grammar", () => {
  test("has thousands of distinct prompts, each parsed back to its scene", () => {
    const prompts = scenes.map(formatPrompt);
    assert.equal(new Set(prompts).size, scenes.length);
    assert.ok(scenes.length > 5000, `${scenes.length} scenes`);
    for (let i = 0; i < scenes.length; i++) assert.deepEqual(parsePrompt(prompts[i]!), scenes[i]);
  });

  test("case, extra spaces and 'an' do not change the parse", () => {
    fc.assert(
      fc.property(arbScene, fc.constantFrom(" ", "  ", "\t"), (scene, gap) => {
        const prompt = formatPrompt(scene);
        const messy = `  ${prompt.toUpperCase().split(" ").join(gap).replace(/^A /, "an ")} `;
        assert.deepEqual(parsePrompt(messy), scene);
      }),
      { numRuns: fcRuns(50) },
    );
  });

  test("a word outside the vocabulary is an UnknownWordError naming it and its place", () => {
    fc.assert(
      fc.property(arbScene, fc.nat(), fc.constantFrom("pink", "hexagon", "tiny", "beside", "cat", "red,"), (scene, at, word) => {
        const words = formatPrompt(scene).split(" ");
        const index = at % words.length;
        words[index] = word;
        const error = (() => {
          try {
            parsePrompt(words.join(" "));
          } catch (e) {
            return e;
          }
        })();
        assert.ok(error instanceof UnknownWordError, String(error));
        assert.equal(error.word, word);
        assert.equal(error.wordIndex, index);
      }),
      { numRuns: fcRuns(50) },
    );
  });

  test("known words out of order are a MalformedPromptError saying what was expected", () => {
    const cases: [string, RegExp][] = [
      ["a small red on the left on a white background", /expected a shape/],
      ["a red small circle on the left on a white background", /expected a size/],
      ["a small gray circle on the left on a white background", /expected a colour/],
      ["a small red circle on a white background", /expected a position .* or a relation/],
      ["a small red circle on the left", /end of the prompt|expected "on a … background"/],
      ["a small red circle on the left on a red background", /expected a background colour/],
      ["a small red circle left of a large red square on a white background", /colour other than red/],
      ["a small red circle on the left on a white background background", /expected the end of the prompt/],
      ["", /expected "a"/],
    ];
    for (const [prompt, message] of cases) {
      assert.throws(
        () => parsePrompt(prompt),
        (e: unknown) => e instanceof MalformedPromptError && e instanceof PromptParseError && message.test(e.message),
        prompt,
      );
    }
  });

  test("held-out prompts name a held-out colour–shape pair; training prompts never do", () => {
    const train = scenesOf("train");
    const heldout = scenesOf("heldout");
    assert.equal(train.length + heldout.length, scenes.length);
    const pairOf = (o: { colour: string; shape: string }) => `${o.colour} ${o.shape}`;
    const heldPairs = new Set(HELD_OUT_PAIRS.map(([c, s]) => `${c} ${s}`));
    for (const scene of train) for (const o of sceneObjects(scene)) assert.ok(!heldPairs.has(pairOf(o)), formatPrompt(scene));
    for (const scene of heldout)
      assert.ok(
        sceneObjects(scene).some((o) => heldPairs.has(pairOf(o))),
        formatPrompt(scene),
      );
    // every held-out word still occurs in training, only the combination is new
    const trainWords = new Set(train.flatMap((s) => formatPrompt(s).split(" ")));
    for (const scene of heldout) for (const word of formatPrompt(scene).split(" ")) assert.ok(trainWords.has(word), word);
  });

  test("sampleScenes is seeded, stays in its split and mixes singles and pairs", () => {
    const a = sampleScenes(200, { seed: 3, split: "heldout" });
    assert.deepEqual(a, sampleScenes(200, { seed: 3, split: "heldout" }));
    assert.notDeepEqual(a, sampleScenes(200, { seed: 4, split: "heldout" }));
    assert.ok(a.every(isHeldOut));
    const singles = a.filter((s) => s.kind === "single").length;
    assert.ok(singles > 50 && singles < 110, `${singles} singles of 200`);
    assert.throws(() => sampleScenes(-1), RangeError);
    assert.throws(() => sampleScenes(2, { singleFraction: 2 }), RangeError);
  });
});
