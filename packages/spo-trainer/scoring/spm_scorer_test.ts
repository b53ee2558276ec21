// The step-aware preference model of @spo/step-preference-model plugs in as the sampler's scorer
// through the shared StepScorer interface (a tiny random SPM; images of any size are resized by it),
// and the pairs it selects follow its scores.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { loadSpmTokenizer, StepPreferenceModel, StepPreferenceScorer } from "@spo/step-preference-model/node";
import { RandomGenerator, type Tensor } from "@spo/wgpu-tensor";
import { testDevice } from "@spo/wgpu-tensor/testing";
import { sampleSpoPairs } from "../sampler/spo_sampler.ts";
import { sd15Scheduler, tinyUnet, wordPromptEncoder } from "../test/_tiny.ts";
import type { StepScorer } from "./step_scorer.ts";

let unet: ReturnType<typeof tinyUnet>;
before(async () => {
  await testDevice();
  unet = tinyUnet(6, 3);
});
after(() => unet.dispose());

it("samples SPO pairs scored by a step-aware preference model", async () => {
  const model = StepPreferenceModel.fromConfig(
    {
      projection_dim: 16,
      text_config: { hidden_size: 32, intermediate_size: 64, num_attention_heads: 4, num_hidden_layers: 2, hidden_act: "gelu" },
      vision_config: {
        hidden_size: 32,
        intermediate_size: 64,
        num_attention_heads: 4,
        num_hidden_layers: 2,
        image_size: 32,
        patch_size: 8,
        hidden_act: "gelu",
      },
    },
    { seed: 1 },
  );
  const spm = new StepPreferenceScorer(model, await loadSpmTokenizer());
  const seen: number[][] = [];
  const scorer: StepScorer = {
    async score(images: Tensor, prompts, timesteps) {
      seen.push([...timesteps]);
      return spm.score(images, prompts, timesteps);
    },
  };
  const result = await sampleSpoPairs(
    { unet, scheduler: sd15Scheduler(), promptEncoder: wordPromptEncoder, scorer, generator: new RandomGenerator(3) },
    ["a red circle", "a blue square"],
    {
      steps: 3,
      divertStartStep: 1,
      poolSize: 2,
      threshold: 0,
      latentShape: [3, 8, 8],
    },
  );
  result.latents.dispose();
  // children of step 1 are scored at step 2's timestep, the final ones at 0; k·B = 4 rows each
  const schedule = sd15Scheduler();
  schedule.setTimesteps(3);
  assert.deepEqual(seen, [new Array(4).fill(schedule.timesteps[2]), new Array(4).fill(0)]);
  assert.equal(result.offered, 4);
  assert.ok(result.pairs.length > 0);
  for (const pair of result.pairs) assert.ok(pair.scoreWin > pair.scoreLose);
  model.dispose();
});
