import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Device, full, randn, tensor, type Tensor, zeros } from "@spo/wgpu-tensor";
import { assertClose, testDevice } from "@spo/wgpu-tensor/testing";
import { SpmInputError } from "../errors.ts";
import { StepPreferenceModel } from "../model/step_preference_model.ts";
import { spmFixture } from "../test/_fixture.ts";
import { type PromptTokenizer, type StepScorer, StepPreferenceScorer } from "./scorer.ts";

let device: Device;
before(async () => {
  device = await testDevice();
});
after(() => device.destroy());

/** A stand-in tokenizer for the fixture's 1000-token vocabulary: BOS 998, one id per word, EOS 999, pad 0. */
const tinyTokenizer: PromptTokenizer = {
  encodeBatch: (texts, options) =>
    texts.map((text) => {
      const words = text.split(" ").map((word) => 1 + ([...word].reduce((h, c) => h * 31 + c.charCodeAt(0), 7) % 900));
      const row = [998, ...words, 999];
      return [...row, ...new Array<number>((options?.maxLength ?? 77) - row.length).fill(0)];
    }),
};

function makeScorer(
  chunkSize = 8,
  model = StepPreferenceModel.fromConfig(spmFixture().manifest.config, { device, seed: 11 }),
): StepPreferenceScorer {
  return new StepPreferenceScorer(model, tinyTokenizer, { chunkSize });
}

/** Asserts `run` rejects with an SpmInputError naming `argument`, and that no kernel was dispatched. */
async function rejectsBeforeDispatch(run: () => Promise<unknown>, argument: string, message: RegExp): Promise<void> {
  const before = device.queue.counters.dispatches;
  await assert.rejects(run(), (error: unknown) => {
    assert.ok(error instanceof SpmInputError, String(error));
    assert.equal(error.argument, argument);
    assert.match(error.message, message);
    return true;
  });
  assert.equal(device.queue.counters.dispatches, before, "nothing was dispatched");
}

describe("StepPreferenceScorer", () => {
  test("satisfies the trainer's StepScorer; chunked scoring equals one pass, for any image size", async () => {
    const whole = makeScorer(8);
    const scorer: StepScorer = makeScorer(2, whole.model);
    const images = randn([5, 3, 48, 40], { seed: 1, device });
    const prompts = ["a red cat", "a blue dog", "a cat", "two dogs", "a red cat"];
    const timesteps = [0, 251, 501, 701, 951];
    const chunked = await scorer.score(images, prompts, timesteps);
    assert.equal(chunked.length, 5);
    assertClose(chunked, await whole.score(images, prompts, timesteps), { atol: 1e-5, rtol: 1e-5 });
    const first = await whole.score(randn([1, 3, 48, 40], { seed: 1, device }), ["a red cat"], [0]);
    assertClose(first, chunked.subarray(0, 1), { atol: 1e-5, rtol: 1e-5 });
  });

  test("scoring records no autograd graph even though the parameters require gradients", async () => {
    const scorer = makeScorer();
    const live = device.memory().liveBytes;
    await scorer.score(randn([2, 3, 32, 32], { seed: 2, device }), ["a", "b"], [3, 4]);
    assert.ok(scorer.model.parameters().every((p) => p.grad === null));
    assert.ok(device.memory().liveBytes <= live + 2 * 3 * 32 * 32 * 4, "only the input images stay alive");
  });

  test("bad input is refused with a typed error naming the argument, before anything is dispatched", async () => {
    const scorer = makeScorer();
    const good = zeros([2, 3, 32, 32], { device });
    const [rank3, fourChannels, integers] = [
      zeros([3, 32, 32], { device }),
      zeros([2, 4, 32, 32], { device }),
      zeros([2, 3, 8, 8], { device, dtype: "i32" }),
    ];
    const prompts = ["a", "b"];
    await rejectsBeforeDispatch(() => scorer.score(rank3, prompts, [0, 0]), "images", /expected \[N ≥ 1, 3, H, W\]/);
    await rejectsBeforeDispatch(() => scorer.score(fourChannels, prompts, [0, 0]), "images", /shape \[2, 4, 32, 32\]/);
    await rejectsBeforeDispatch(() => scorer.score(integers, prompts, [0, 0]), "images", /i32/);
    await rejectsBeforeDispatch(() => scorer.score(good, ["a"], [0, 0]), "prompts", /prompts has 1 entries, the images 2/);
    await rejectsBeforeDispatch(() => scorer.score(good, prompts, [0]), "timesteps", /timesteps has 1 entries/);
    await rejectsBeforeDispatch(
      () => scorer.score(good, prompts, [0, 1000]),
      "timesteps",
      /timesteps\[1\] = 1000, expected a number in \[0, 999\]/,
    );
    await rejectsBeforeDispatch(() => scorer.score(good, prompts, [-1, 0]), "timesteps", /timesteps\[0\] = -1/);
    await rejectsBeforeDispatch(() => scorer.score(good, prompts, [Number.NaN, 0]), "timesteps", /NaN/);
    await rejectsBeforeDispatch(() => scorer.scoreIds(good, [[998, 999], [998]], [0, 0]), "ids", /row 1 has 1 ids/);
    await rejectsBeforeDispatch(
      () =>
        scorer.scoreIds(
          good,
          [
            [998, 999],
            [998, 5000],
          ],
          [0, 0],
        ),
      "ids",
      /5000, outside the vocabulary/,
    );
    await rejectsBeforeDispatch(() => new StepPreferenceScorer(scorer.model, null).score(good, prompts, [0, 0]), "prompts", /no tokenizer/);
    assert.throws(() => scorer.model.encodeImages(good, [1]), SpmInputError);
  });

  test("non-finite images are refused (naming the image) before the model runs", async () => {
    const scorer = makeScorer();
    const data = new Float32Array(3 * 3 * 16 * 16);
    data[2 * 768 + 5] = Number.NaN;
    const images: Tensor = tensor(data, [3, 3, 16, 16], { device });
    await assert.rejects(
      scorer.score(images, ["a", "b", "c"], [0, 0, 0]),
      (e: unknown) => e instanceof SpmInputError && e.argument === "images" && /image 2 holds NaN/.test(e.message),
    );
    const infinite = full([1, 3, 16, 16], Number.POSITIVE_INFINITY, { device });
    await assert.rejects(scorer.score(infinite, ["a"], [0]), /image 0 holds NaN or infinite/);
  });
});
