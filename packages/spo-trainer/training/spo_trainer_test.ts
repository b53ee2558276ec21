// The training loop on a tiny UNet: with the LoRA's up-weights zero every ratio is exactly 1 and
// the loss exactly ln 2; a run records metrics per update and writes checkpoints whose LoRA loads
// back through @spo/lora's diffusers loader with every key matched; a NaN loss stops the run
// without a checkpoint.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { injectLora, loadLora, withAdaptersDisabled } from "@spo/lora";
import { parseSafetensors } from "@spo/safetensors";
import { noGrad, RandomGenerator, type Tensor } from "@spo/wgpu-tensor";
import { fcRuns, testDevice } from "@spo/wgpu-tensor/testing";
import { decodeCheckpoint, memoryCheckpointStore } from "../checkpoint/training_checkpoint.ts";
import { spoLoss } from "../losses/spo_loss.ts";
import { guidedEpsilon } from "../sampler/guided_denoiser.ts";
import { meanPixels, sd15Scheduler, tinyUnet, wordPromptEncoder } from "../test/_tiny.ts";
import { SpoTrainer, TrainingDivergedError } from "./spo_trainer.ts";
import { resolveTrainConfig, TrainConfigError } from "./train_config.ts";

before(async () => {
  await testDevice();
});

const PROMPTS = ["a red circle", "a blue square", "a green dot", "two yellow stars"];
const SMALL = {
  epochs: 1,
  sampleBatchSize: 2,
  trainBatchSize: 3,
  steps: 4,
  divertStartStep: 1,
  poolSize: 2,
  threshold: 0,
  latentShape: [4, 8, 8],
  validationCount: 0,
};
const brightness = async (images: Tensor) => Float32Array.from(await meanPixels(images), (v) => 40 * v);

describe("SPO training", () => {
  let unet: ReturnType<typeof tinyUnet>;
  before(() => {
    unet = tinyUnet(5);
  });
  after(() => unet.dispose());

  it("gives ratios of exactly 1 and the loss ln 2 while the LoRA's up-weights are zero", async () => {
    const scheduler = sd15Scheduler();
    scheduler.setTimesteps(20);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 30 }), fc.integer({ min: 1, max: 3 }), async (seed, batch) => {
        const adapter = injectLora(unet, {
          rank: 4,
          alpha: 4,
          init: "gaussian",
          targetModules: ["to_q", "to_k", "to_v", "to_out.0"],
          seed,
        });
        const g = new RandomGenerator(seed);
        const [sample, winner, loser] = [g.randn([batch, 4, 8, 8]), g.randn([batch, 4, 8, 8]), g.randn([batch, 4, 8, 8])];
        const prompts = PROMPTS.slice(0, batch);
        const cond = wordPromptEncoder.encode(prompts);
        const uncond = wordPromptEncoder.encode(prompts.map(() => ""));
        const timesteps = Array.from({ length: batch }, (_, i) => scheduler.timesteps[(seed + 7 * i) % 20]);
        const refEps = noGrad(() => withAdaptersDisabled(unet, () => guidedEpsilon(unet, sample, timesteps, cond, uncond, 5)));
        const policyEps = guidedEpsilon(unet, sample, timesteps, cond, uncond, 5);
        const out = spoLoss(scheduler, { policyEps, refEps, sample, winner, loser, timesteps });
        assert.deepEqual(Array.from(await out.ratioWin.toArray()), new Array(batch).fill(1));
        assert.deepEqual(Array.from(await out.ratioLose.toArray()), new Array(batch).fill(1));
        assert.equal(await out.loss.item(), Math.fround(Math.LN2));
        for (const t of [sample, winner, loser, cond, uncond, refEps, policyEps, ...Object.values(out)]) t.dispose();
        adapter.remove();
      }),
      { numRuns: fcRuns(3) },
    );
  });

  it("records metrics per update and checkpoints a LoRA that @spo/lora's diffusers loader matches key for key", async () => {
    const store = memoryCheckpointStore();
    const events: string[] = [];
    const trainer = await SpoTrainer.create(
      { unet, scheduler: sd15Scheduler(), promptEncoder: wordPromptEncoder, scorer: brightness },
      SMALL,
      {
        prompts: PROMPTS,
        store,
        onProgress: (e) => events.push(e.phase),
        reward: async (images, prompts) => {
          assert.equal(images.shape[0], prompts.length);
          return meanPixels(images);
        },
      },
    );
    const device = await testDevice();
    await device.sync();
    const liveBefore = device.memory().liveBytes;
    await trainer.run();
    await device.sync();
    assert.equal(device.memory().liveBytes, liveBefore, "an iteration frees what it makes");
    assert.ok(trainer.isDone);
    assert.equal(trainer.progress.iteration, 2);
    // threshold 0: every pool of distinct scores is a pair: (4 − 1) steps × 2 prompts = 6 pairs per iteration, minibatches of 3
    assert.equal(trainer.metrics.length, 4);
    const first = trainer.metrics[0];
    assert.equal(first.loss, Math.fround(Math.LN2), "the first update starts from B = 0");
    assert.equal(first.pairsKept, 6);
    assert.equal(first.pairsOffered, 6);
    assert.ok(trainer.metrics.every((m) => m.loraNorm > 0 && Number.isFinite(m.meanScore!) && Number.isFinite(m.reward!)));
    assert.ok(events.includes("sample") && events.includes("train") && events.includes("checkpoint"));
    assert.equal(store.saved.length, 1, "one checkpoint at the end of the epoch");

    const latest = (await store.latest())!;
    const checkpoint = decodeCheckpoint(latest.files);
    assert.equal(checkpoint.progress.update, 4);
    assert.equal(checkpoint.optimizer.step, 4);
    const lora = parseSafetensors(latest.files.get("lora.safetensors")!);
    const keys = [...lora.tensors.keys()];
    assert.ok(
      keys.every((k) => /^unet\..+\.(to_q|to_k|to_v|to_out\.0)\.lora\.(down|up)\.weight$/.test(k)),
      keys[0],
    );
    assert.ok([...lora.tensors.values()].every((t) => t.dtype === "F32"));
    trainer.dispose();
    const { adapter, report } = loadLora(unet, lora.tensors, { strict: true });
    assert.equal(report.matchedTensors, keys.length);
    assert.equal(report.tensorCount, keys.length);
    assert.equal(report.unmatched.length, 0);
    assert.deepEqual(report.formats, ["diffusers"]);
    adapter.remove();
  });

  it("stops on a NaN loss with a clear error and writes no checkpoint", async () => {
    const store = memoryCheckpointStore();
    const nanScheduler = sd15Scheduler();
    let trainer: SpoTrainer | null = null;
    // poison the LoRA after sampling, before the first minibatch: NaN in an up matrix makes every policy ε̂ NaN
    const poison = () => {
      const [name, up] = [...trainer!.adapter.stateDict()].find(([key]) => key.endsWith("lora_B.weight"))!;
      trainer!.adapter.loadStateDict(new Map([[name, { shape: [...up.shape], data: new Float32Array(up.size).fill(Number.NaN) }]]), {
        strict: false,
      });
    };
    trainer = await SpoTrainer.create(
      { unet, scheduler: nanScheduler, promptEncoder: wordPromptEncoder, scorer: brightness },
      { ...SMALL, checkpointEvery: 1 },
      {
        prompts: PROMPTS,
        store,
        onProgress: (e) => {
          if (e.phase === "train" && e.update === 0) poison();
        },
      },
    );
    await assert.rejects(trainer.run(), (error: unknown) => error instanceof TrainingDivergedError && /loss is NaN/.test(error.message));
    assert.equal(store.saved.length, 0);
    trainer.dispose();
  });

  it("rejects unknown or out-of-range settings by name", () => {
    assert.throws(() => resolveTrainConfig({ epochz: 1 } as never), TrainConfigError);
    assert.throws(() => resolveTrainConfig({ poolSize: 1 }), /poolSize/);
    assert.throws(() => resolveTrainConfig({ divertStartStep: 20 }), /divertStartStep/);
    assert.equal(resolveTrainConfig().learningRate, 6e-5);
  });
});
