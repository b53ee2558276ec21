// The fine-tuning module on the shipped base model, tiny settings: evaluation is deterministic for
// fixed seeds, the exact-reward scorer scores what the reward says, one SPO iteration changes the
// LoRA and the model's images, and removing the LoRA gives back the base model's images exactly.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { loraAdaptersOf } from "@spo/lora";
import { type Device, tensor } from "@spo/wgpu-tensor";
import { testDevice } from "@spo/wgpu-tensor/testing";
import { loadToyModel, TOY_BASE_MODEL_URL } from "../model/load_toy_model_node.ts";
import { reward } from "../reward/reward.ts";
import { parsePrompt } from "../world/parser.ts";
import { renderScene } from "../world/render.ts";
import { isHeldOut } from "../world/split.ts";
import { evaluateToyModel } from "./evaluate.ts";
import { HeldOutLeakError, heldOutEvaluation } from "./evaluation_set.ts";
import { exactRewardScorer } from "./exact_reward_scorer.ts";
import { fineTuneToySpo } from "./fine_tune.ts";

const TINY = { steps: 3, divertStartStep: 1, sampleBatchSize: 2, trainBatchSize: 8, poolSize: 2, threshold: 0, seed: 3 };
const EVALUATION = { steps: 3 };

let device: Device;
let pipe: Awaited<ReturnType<typeof loadToyModel>>;
before(async () => {
  device = await testDevice();
  pipe = await loadToyModel(TOY_BASE_MODEL_URL, { device });
});
after(() => pipe.dispose());

describe("toy fine-tuning", () => {
  test("evaluateToyModel() gives the same images and rewards twice for the same set, in any batch size", async () => {
    const set = heldOutEvaluation({ count: 3 });
    const first = await evaluateToyModel(pipe.components, set, EVALUATION);
    const second = await evaluateToyModel(pipe.components, set, { ...EVALUATION, batchSize: 2 });
    assert.equal(first.images.length, 3);
    assert.deepEqual(second.rewards, first.rewards);
    first.images.forEach((image, i) => assert.deepEqual(second.images[i], image, `image ${i}`));
    first.images.forEach((image, i) => assert.equal(first.rewards[i], Math.fround(reward(image, set.prompts[i]!)), `reward ${i}`));
    assert.equal(first.reward.n, 3);
    assert.ok(first.reward.low <= first.reward.mean && first.reward.mean <= first.reward.high);
    await assert.rejects(evaluateToyModel(pipe.components, { ...set, seeds: [1] }), RangeError);
  });

  test("exactRewardScorer() scores each image by scale × its exact reward", async () => {
    const prompts = ["a large red circle in the center on a white background", "a small blue square at the top on a black background"];
    const images = prompts.map((p, i) => renderScene(parsePrompt(p), { seed: i }));
    const batch = tensor(Float32Array.from([...images[0]!, ...images[1]!]), [2, 3, 16, 16], { device });
    const scores = await exactRewardScorer({ scale: 10 }).score(batch, prompts, [500, 0]);
    batch.dispose();
    scores.forEach((s, i) => assert.ok(Math.abs(s - 10 * reward(images[i]!, prompts[i]!)) < 1e-5, `${s}`));
    assert.throws(() => exactRewardScorer({ scale: 0 }), RangeError);
  });

  test("fineTuneToySpo() refuses held-out prompts before touching the model", async () => {
    const heldOut = heldOutEvaluation({ count: 1 }).prompts;
    await assert.rejects(
      fineTuneToySpo(pipe.components, { scorer: exactRewardScorer(), iterations: 1, prompts: heldOut, config: TINY }),
      HeldOutLeakError,
    );
    await assert.rejects(fineTuneToySpo(pipe.components, { scorer: exactRewardScorer(), iterations: 0 }), RangeError);
    assert.equal(loraAdaptersOf(pipe.components.unet).length, 0, "no LoRA left in the UNet");
  });

  test("one SPO iteration trains the LoRA on training prompts; remove() restores the base model", async () => {
    const set = heldOutEvaluation({ count: 2 });
    const base = await evaluateToyModel(pipe.components, set, EVALUATION);
    const events: string[] = [];
    const run = await fineTuneToySpo(pipe.components, {
      scorer: exactRewardScorer(),
      iterations: 1,
      config: TINY,
      onProgress: (e) => events.push(e.phase),
    });
    try {
      assert.equal(run.iterations, 1);
      assert.equal(run.prompts.length, 2);
      assert.ok(!run.prompts.some((p) => isHeldOut(parsePrompt(p))));
      assert.deepEqual([...new Set(events)], ["sample", "train"]);
      assert.equal(run.metrics.length, 1, "2 prompts × 2 branched steps = 4 pairs: one minibatch");
      const m = run.metrics[0]!;
      assert.equal(m.pairsOffered, 4);
      assert.ok(m.pairsKept > 0 && Number.isFinite(m.loss), JSON.stringify(m));
      assert.ok(m.reward !== null && m.reward >= 0 && m.reward <= 1, "the exact reward of the final samples is logged");
      const ups = [...run.adapter.stateDict()].filter(([name]) => name.includes("lora_B"));
      const moved = await Promise.all(ups.map(async ([, t]) => (await t.toArray()).some((v) => v !== 0)));
      assert.ok(moved.some(Boolean), "the update moved the LoRA's up-weights away from zero");
      const tuned = await evaluateToyModel(pipe.components, set, EVALUATION);
      assert.ok(
        tuned.images.some((image, i) => image.some((v, j) => v !== base.images[i]![j])),
        "the fine-tuned model draws different images",
      );
    } finally {
      run.remove();
    }
    assert.equal(loraAdaptersOf(pipe.components.unet).length, 0);
    const restored = await evaluateToyModel(pipe.components, set, EVALUATION);
    restored.images.forEach((image, i) => assert.deepEqual(image, base.images[i], `image ${i} after remove()`));
  });
});
