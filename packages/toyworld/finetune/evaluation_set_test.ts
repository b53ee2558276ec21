import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { fcRuns } from "@spo/wgpu-tensor/testing";
import { PromptParseError } from "../world/errors.ts";
import { parsePrompt } from "../world/parser.ts";
import { HELD_OUT_PAIRS } from "../world/split.ts";
import { checkTrainingPrompts, HeldOutLeakError, heldOutEvaluation, trainingPrompts } from "./evaluation_set.ts";

/** Whether a prompt names a held-out colour–shape pair, read from its words (not through isHeldOut). */
function namesHeldOutPair(prompt: string): boolean {
  return HELD_OUT_PAIRS.some(([colour, shape]) => prompt.includes(`${colour} ${shape}`));
}

describe("toy fine-tuning prompts", () => {
  test("heldOutEvaluation() gives the same held-out prompts and consecutive seeds for the same options", () => {
    const set = heldOutEvaluation({ count: 40 });
    assert.deepEqual(heldOutEvaluation({ count: 40 }), set);
    assert.deepEqual(
      set.seeds,
      Array.from({ length: 40 }, (_, i) => 10_000 + i),
    );
    assert.ok(set.prompts.every(namesHeldOutPair), "every evaluation prompt names a held-out pair");
    set.prompts.forEach((p, i) => assert.deepEqual(parsePrompt(p), set.scenes[i]));
    const smaller = heldOutEvaluation({ count: 8 });
    assert.deepEqual(smaller.prompts, set.prompts.slice(0, 8), "a smaller set is a prefix of a larger one");
    assert.notDeepEqual(heldOutEvaluation({ count: 40, seed: 1 }).prompts, set.prompts);
    assert.deepEqual(heldOutEvaluation({ count: 3, firstNoiseSeed: 5 }).seeds, [5, 6, 7]);
  });

  test("heldOutEvaluation() refuses a count that is not a positive integer", () => {
    for (const count of [0, -1, 2.5, Number.NaN]) assert.throws(() => heldOutEvaluation({ count }), RangeError, String(count));
    assert.throws(() => heldOutEvaluation({ count: 2, firstNoiseSeed: -1 }), RangeError);
  });

  test("trainingPrompts() never names a held-out pair, for any seed", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        const prompts = trainingPrompts(200, { seed });
        assert.equal(prompts.length, 200);
        assert.ok(!prompts.some(namesHeldOutPair), `seed ${seed}`);
        checkTrainingPrompts(prompts);
      }),
      { numRuns: fcRuns(20) },
    );
  });

  test("checkTrainingPrompts() refuses a held-out prompt by index and a prompt outside the grammar", () => {
    const train = "a large red circle in the center on a white background";
    const heldOut = "a small red square left of a large blue circle on a black background";
    checkTrainingPrompts([train]);
    assert.throws(
      () => checkTrainingPrompts([train, heldOut]),
      (error: unknown) =>
        error instanceof HeldOutLeakError && error.index === 1 && error.prompt === heldOut && /held-out/.test(error.message),
    );
    assert.throws(() => checkTrainingPrompts(["a purple cat"]), PromptParseError);
  });
});
