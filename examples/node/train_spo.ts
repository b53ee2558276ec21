// The shortest complete SPO fine-tune: a LoRA on the toy world's base model, trained on step-wise
// preference pairs that the toy world's exact reward picks (in place of a step-aware preference model),
// then saved in kohya's format for `<lora:…>` tags.
//
//   node --conditions=@spo/source --import tsx examples/node/train_spo.ts [--prompts 2] [--steps 6] [--epochs 1] [--out examples/node/output/train_spo]
//
// The defaults are tiny so it runs on a CPU in under 20 s; the paper's settings (20 steps, batches of
// 10, 10 epochs) are SpoTrainer's defaults. The toy model predicts v; the trainer reads the prediction
// type from the scheduler config.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DDIMScheduler } from "@spo/diffusion-unet";
import { saveLora, writeLoraFile } from "@spo/lora/node";
import { asStepScorer, clipPromptEncoder, memoryCheckpointStore, SpoTrainer } from "@spo/trainer";
import { formatPrompt, loadToyModel, rewardBatch, sampleScenes } from "@spo/toyworld/node";
import { Device, type Tensor } from "@spo/wgpu-tensor";

const { values: args } = parseArgs({
  options: {
    prompts: { type: "string", default: "2" },
    steps: { type: "string", default: "6" },
    epochs: { type: "string", default: "1" },
    out: { type: "string", default: "examples/node/output/train_spo" },
  },
});
Device.setDefault(await Device.create());
const started = performance.now();

const pipe = await loadToyModel();
const { unet, textEncoder, tokenizer, schedulerConfig } = pipe.components;
const prompts = sampleScenes(Number(args.prompts), { split: "train", seed: 0 }).map(formatPrompt);

// The scorer sees every candidate's predicted clean image x̂0 ([N, 3, 16, 16] in [−1, 1]) with its
// prompt and timestep. The exact reward is in [0, 1]; SPO compares scores by softmax, so scale it.
const scorer = asStepScorer(async (images: Tensor, rowPrompts: readonly string[]) =>
  rewardBatch(
    Float32Array.from(await images.toArray(), (v) => Math.max(-1, Math.min(1, v))),
    rowPrompts,
  ).map((r) => 10 * r),
);

const trainer = await SpoTrainer.create(
  {
    unet,
    scheduler: DDIMScheduler.fromConfig(schedulerConfig),
    promptEncoder: clipPromptEncoder(textEncoder, tokenizer),
    scorer,
  },
  {
    epochs: Number(args.epochs),
    sampleBatchSize: prompts.length,
    trainBatchSize: prompts.length,
    steps: Number(args.steps),
    divertStartStep: 1,
    poolSize: 2,
    threshold: 0,
    latentShape: [3, 16, 16],
    validationCount: 0,
    learningRate: 1e-3,
  },
  { prompts, store: memoryCheckpointStore() },
);
await trainer.run();
for (const m of trainer.metrics) console.log(`update: ${m.pairsKept} of ${m.pairsOffered} pairs kept, loss ${m.loss.toFixed(4)}`);

await mkdir(args.out, { recursive: true });
const file = join(args.out, "spo_toy_kohya.safetensors");
await writeLoraFile(file, await saveLora(trainer.adapter, "kohya", { models: unet }));
pipe.dispose();
console.log(`wrote ${file} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
