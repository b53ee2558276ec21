/**
 * Trains the two toy preference models and writes them to `assets/spm/` (or `--out`):
 * `npm run toyworld:train-spm -- [--base <model folder>] [--out <folder>] [--quick]`.
 *
 * SPO's recipe at toy scale, in three stages:
 * 1. a "PickScore" stage: a plain CLIP-like scorer, its text tower started from the base model's text
 *    encoder, is pretrained contrastively on rendered images and their prompts, then learns from
 *    rendered pairs (the prompt's rendering against near misses and degraded copies, labelled by the
 *    exact reward); no UNet call;
 * 2. the step-aware model starts from it with SPO's adaLN init and learns from pairs of base-model
 *    samples of the same prompt (labelled by the exact reward) seen as x̂0 of the frozen base model at
 *    t ~ U{0…999}, both images noised alike;
 * 3. the step-agnostic model starts from the same stage-1 weights and learns from the same pairs,
 *    clean only (the ablation's scorer).
 * Then both are evaluated on pairs of base samples for held-out prompts at SPO's timesteps
 * {0, 251, 501, 701, 951}; the accuracies go to `accuracy.json` beside the models.
 * Seeded throughout: the same adapter gives the same weights.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadDefaultClipTokenizer } from "@spo/clip/node";
import {
  evaluatePairwiseAccuracy,
  type PairwiseAccuracy,
  SPM_EVAL_TIMESTEPS,
  StepPreferenceModel,
  trainStepPreferenceModel,
} from "@spo/step-preference-model";
import { loadStepPreferenceModel } from "@spo/step-preference-model/node";
import { Device } from "@spo/wgpu-tensor";
import { loadToyModel, TOY_BASE_MODEL_URL } from "../model/load_toy_model_node.ts";
import { type HostPairs, pairBatch, renderedPairs, sampledPairs } from "./preference_pairs.ts";
import { initTextTower, trainContrastive } from "./contrastive_stage.ts";
import { saveToySpmFolder } from "./save_toy_spm_node.ts";
import { TOY_SPM_CONFIG } from "./toy_spm_config.ts";
import { baseSamples } from "./base_samples.ts";
import { memoisedDenoiser, toyStepDenoiser } from "./toy_denoiser.ts";

/** The settings of the shipped models (`--quick` divides the sizes for a smoke run). */
export const SPM_TRAINING = {
  contrastiveSteps: 300,
  contrastiveBatch: 64,
  renderedPairs: 4096,
  renderedSteps: 100,
  renderedBatchPairs: 32,
  samplePrompts: 48,
  evalPrompts: 16,
  samplesPerPrompt: 4,
  sampleSteps: 10,
  spmSteps: 100,
  batchPairs: 16,
  learningRate: 1e-3,
  seed: 0,
} as const;

const { values } = parseArgs({
  options: {
    base: { type: "string", default: fileURLToPath(TOY_BASE_MODEL_URL) },
    out: { type: "string", default: fileURLToPath(new URL("../assets/spm/", import.meta.url)) },
    quick: { type: "boolean", default: false },
  },
});
const scaled = (value: number) => (values.quick ? Math.max(1, Math.floor(value / 16)) : value);
const settings = {
  ...SPM_TRAINING,
  contrastiveSteps: scaled(SPM_TRAINING.contrastiveSteps),
  renderedPairs: scaled(SPM_TRAINING.renderedPairs),
  renderedSteps: scaled(SPM_TRAINING.renderedSteps),
  samplePrompts: scaled(SPM_TRAINING.samplePrompts),
  evalPrompts: scaled(SPM_TRAINING.evalPrompts),
  spmSteps: scaled(SPM_TRAINING.spmSteps),
};
const started = performance.now();
const seconds = () => ((performance.now() - started) / 1000).toFixed(0);
const device = await Device.create();
const tokenizer = await loadDefaultClipTokenizer();
const base = await loadToyModel(values.base!, { device });
const sampling = { samplesPerPrompt: settings.samplesPerPrompt, steps: settings.sampleSteps };
const log = (message: string) => console.log(`  ${message} (${seconds()} s)`);
// training asks for x̂0 at fresh timesteps every step (nothing to reuse); the evaluation of the two
// models asks for the same x̂0 twice, so only it goes through the cache
const denoiser = toyStepDenoiser(base.components);
const evaluationDenoiser = memoisedDenoiser(denoiser, device);

function describe(pairs: HostPairs): string {
  const ties = pairs.labels.filter((l) => l === 0.5).length;
  return `${pairs.labels.length} pairs (${ties} ties)`;
}

async function train(model: StepPreferenceModel, pairs: HostPairs, steps: number, batch: number, withDenoiser: boolean, name: string) {
  const { losses } = await trainStepPreferenceModel(model, {
    tokenizer,
    pairs: (step) => pairBatch(pairs, step * batch, batch, device),
    denoiser: withDenoiser ? denoiser : undefined,
    steps,
    lr: settings.learningRate,
    weightDecay: 0.01,
    warmupSteps: Math.ceil(steps / 10),
    seed: settings.seed,
    onStep: ({ step, loss }) => {
      if (step % 25 === 0 || step === steps) console.log(`  ${name} step ${step}/${steps} loss ${loss.toFixed(4)} (${seconds()} s)`);
    },
  });
  return losses;
}

// 1. the PickScore stage: a plain scorer on rendered pairs
const rendered = renderedPairs(settings.renderedPairs, { seed: settings.seed });
console.log(`stage 1: ${describe(rendered)} rendered from training prompts`);
const pickScore = StepPreferenceModel.fromConfig(TOY_SPM_CONFIG, { device, isTimeConditioned: false, seed: settings.seed + 11 });
await initTextTower(pickScore, base.components.textEncoder);
await trainContrastive(pickScore, {
  tokenizer,
  steps: settings.contrastiveSteps,
  batchSize: settings.contrastiveBatch,
  lr: settings.learningRate,
  seed: settings.seed,
  onStep: (step, loss) => {
    if (step % 25 === 0 || step === settings.contrastiveSteps)
      console.log(`  contrastive step ${step}/${settings.contrastiveSteps} loss ${loss.toFixed(4)} (${seconds()} s)`);
  },
});
await train(pickScore, rendered, settings.renderedSteps, settings.renderedBatchPairs, false, "stage 1");
const scratch = await mkdtemp(join(tmpdir(), "toy-spm-"));
await saveToySpmFolder(scratch, pickScore);
pickScore.dispose();

// 2–3. both models from the stage-1 weights, on pairs of base samples
const train_ = await baseSamples(base.components, "train", settings.samplePrompts, settings.seed + 1, sampling, log);
const sampled = sampledPairs(train_.images, train_.prompts, settings.samplesPerPrompt);
console.log(`stage 2: ${describe(sampled)} of base samples for ${settings.samplePrompts} training prompts`);
const fromStage1 = (isTimeConditioned: boolean) =>
  loadStepPreferenceModel(scratch, {
    device,
    config: { ...TOY_SPM_CONFIG },
    isTimeConditioned,
    initFromClip: isTimeConditioned,
    seed: settings.seed + 13,
  });
const stepAware = await fromStage1(true);
await train(stepAware, sampled, settings.spmSteps, settings.batchPairs, true, "step-aware");
const stepAgnostic = await fromStage1(false);
await train(stepAgnostic, sampled, settings.spmSteps, settings.batchPairs, false, "step-agnostic");
await rm(scratch, { recursive: true, force: true });

// evaluation on held-out prompts
const held = await baseSamples(base.components, "heldout", settings.evalPrompts, settings.seed + 2, sampling, log);
const evalPairs = sampledPairs(held.images, held.prompts, settings.samplesPerPrompt);
console.log(`evaluation: ${describe(evalPairs)} of base samples for ${settings.evalPrompts} held-out prompts`);
const batches = Array.from({ length: Math.ceil(evalPairs.labels.length / 64) }, (_, i) =>
  pairBatch(evalPairs, i * 64, Math.min(64, evalPairs.labels.length - i * 64), device),
);
const accuracy: Record<string, PairwiseAccuracy[]> = {};
for (const [name, model] of [
  ["step-aware", stepAware],
  ["step-agnostic", stepAgnostic],
] as const) {
  accuracy[name] = await evaluatePairwiseAccuracy(model, batches, {
    tokenizer,
    denoiser: evaluationDenoiser,
    timesteps: SPM_EVAL_TIMESTEPS,
    seed: 5,
  });
  console.log(
    `${name}: ${accuracy[name].map((a) => `t=${a.timestep} ${(100 * a.accuracy).toFixed(1)} %`).join(", ")} (${accuracy[name][0]!.count} decided pairs)`,
  );
}

const out = values.out!;
const metadata = { base_model: "toyworld base_model", seed: String(settings.seed) };
await saveToySpmFolder(join(out, "step_aware"), stepAware, metadata);
await saveToySpmFolder(join(out, "step_agnostic"), stepAgnostic, metadata);
const report = {
  settings,
  trainingPairs: { rendered: rendered.labels.length, sampled: sampled.labels.length },
  evaluationPairs: evalPairs.labels.length,
  accuracy,
  wallSeconds: Number(seconds()),
  adapter: device.adapter.description,
};
await writeFile(join(out, "accuracy.json"), `${JSON.stringify(report, null, 2)}\n`);
console.log(`wrote ${out} in ${seconds()} s`);
for (const b of batches) {
  b.imagesA.dispose();
  b.imagesB.dispose();
}
stepAware.dispose();
stepAgnostic.dispose();
base.dispose();
device.destroy();
