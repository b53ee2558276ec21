// The pooled sampler on a tiny random UNet: stored timesteps are the parents', the number of pairs
// never exceeds (steps − divertStartStep) × batch, the same seed gives the same pairs bit for bit,
// and children are scored at their own timestep (0 for the final ones).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { mean, RandomGenerator, type Tensor } from "@spo/wgpu-tensor";
import { fcRuns, testDevice } from "@spo/wgpu-tensor/testing";
import { asStepScorer } from "../scoring/step_scorer.ts";
import { sd15Scheduler, tinyUnet, wordPromptEncoder } from "../test/_tiny.ts";
import { sampleSpoPairs } from "./spo_sampler.ts";

let unet: ReturnType<typeof tinyUnet>;
before(async () => {
  await testDevice();
  unet = tinyUnet(3);
});
after(() => unet.dispose());

const PROMPTS = ["a red circle", "a blue square", "a green dot"];

function brightness(calls?: { timesteps: number[]; rows: number }[]) {
  return asStepScorer(async (images: Tensor, _prompts, timesteps) => {
    calls?.push({ timesteps: [...timesteps], rows: images.shape[0] });
    const m = mean(images, [1, 2, 3]);
    const values = await m.toArray();
    m.dispose();
    return Float32Array.from(values, (v) => 40 * v);
  });
}

describe("sampleSpoPairs", () => {
  it("stores the parent's timestep, keeps at most (steps − divertStartStep) × batch pairs, and repeats itself for a seed", async () => {
    const arb = fc
      .record({
        batch: fc.integer({ min: 1, max: 3 }),
        k: fc.integer({ min: 2, max: 3 }),
        steps: fc.integer({ min: 2, max: 5 }),
        divert: fc.integer({ min: 0, max: 4 }),
        seed: fc.integer({ min: 0, max: 2 ** 31 }),
        greedy: fc.boolean(),
        threshold: fc.constantFrom(0, 0.3),
      })
      .filter(({ steps, divert }) => divert < steps);
    await fc.assert(
      fc.asyncProperty(arb, async ({ batch, k, steps, divert, seed, greedy, threshold }) => {
        const scheduler = sd15Scheduler();
        const options = { steps, divertStartStep: divert, poolSize: k, greedy, threshold, latentShape: [4, 8, 8], guidanceScale: 5 };
        const run = async (calls?: { timesteps: number[]; rows: number }[]) =>
          sampleSpoPairs(
            { unet, scheduler, promptEncoder: wordPromptEncoder, scorer: brightness(calls), generator: new RandomGenerator(seed) },
            PROMPTS.slice(0, batch),
            options,
          );
        const calls: { timesteps: number[]; rows: number }[] = [];
        const first = await run(calls);
        const second = await run();
        const timesteps = scheduler.timesteps;
        assert.ok(first.pairs.length <= (steps - divert) * batch);
        assert.equal(first.offered, (steps - divert) * batch);
        // with threshold 0 every pool with distinct scores gives a pair
        if (threshold === 0) assert.equal(first.pairs.length, first.offered);
        for (const pair of first.pairs) {
          assert.ok(pair.step >= divert);
          assert.equal(pair.timestep, timesteps[pair.step], "the stored timestep is the parent's");
          assert.ok(pair.scoreWin - pair.scoreLose > 0);
        }
        // children scored at the next timestep, the last ones at 0, k·B rows each
        assert.deepEqual(
          calls.map((c) => c.timesteps[0]),
          [...timesteps.slice(divert + 1), 0],
        );
        for (const c of calls) assert.equal(c.rows, k * batch);
        assert.equal(second.pairs.length, first.pairs.length);
        first.pairs.forEach((pair, i) => {
          const again = second.pairs[i];
          assert.equal(again.timestep, pair.timestep);
          assert.equal(again.prompt, pair.prompt);
          for (const key of ["sample", "winner", "loser"] as const)
            assert.deepEqual(Buffer.from(again[key].buffer), Buffer.from(pair[key].buffer));
        });
        first.latents.dispose();
        second.latents.dispose();
      }),
      { numRuns: fcRuns(5) },
    );
  });

  it("frees every tensor it makes (live bytes unchanged once the final latents are disposed)", async () => {
    const device = await testDevice();
    const live = async () => {
      await device.sync();
      return device.memory().liveBytes;
    };
    const before = await live();
    for (const seed of [1, 2]) {
      const result = await sampleSpoPairs(
        { unet, scheduler: sd15Scheduler(), promptEncoder: wordPromptEncoder, scorer: brightness(), generator: new RandomGenerator(seed) },
        PROMPTS.slice(0, 2),
        {
          steps: 5,
          divertStartStep: 2,
          poolSize: 3,
          latentShape: [4, 8, 8],
        },
      );
      result.latents.dispose();
      assert.equal(await live(), before, `after run ${seed}`);
    }
  });

  it("rejects settings that make no pool before any GPU work", async () => {
    const models = {
      unet,
      scheduler: sd15Scheduler(),
      promptEncoder: wordPromptEncoder,
      scorer: brightness(),
      generator: new RandomGenerator(0),
    };
    await assert.rejects(sampleSpoPairs(models, ["x"], { poolSize: 1 }), /poolSize 1/);
    await assert.rejects(sampleSpoPairs(models, ["x"], { steps: 4, divertStartStep: 4 }), /divertStartStep 4/);
    await assert.rejects(sampleSpoPairs(models, []), /empty batch/);
  });
});
