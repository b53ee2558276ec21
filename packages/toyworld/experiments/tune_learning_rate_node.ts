// `npm run experiments:tune-lr`: how SPO's learning rate was chosen for `npm run experiments`, on
// training prompts only. For each learning rate, from the shipped base model: SPO with the exact
// reward as scorer (the oracle: no SPM error in the way) trains on a fixed set of training prompts,
// and the model is measured before and after (η = 0, fixed noise seeds) on those prompts (4 seeds
// each) and on other training prompts. Differences are paired by image, with 95 % intervals.
//   npm run experiments:tune-lr -- --lr 1e-2,3e-2 [--iterations 12] [--prompts 8]
import { Device } from "@spo/wgpu-tensor";
import { evaluateToyModel } from "../finetune/evaluate.ts";
import type { ToyEvaluationSet } from "../finetune/evaluation_set.ts";
import { exactRewardScorer } from "../finetune/exact_reward_scorer.ts";
import { fineTuneToySpo } from "../finetune/fine_tune.ts";
import { loadToyModel } from "../model/load_toy_model_node.ts";
import { meanWithInterval } from "../reward/statistics.ts";
import { formatPrompt } from "../world/grammar.ts";
import { sampleScenes } from "../world/split.ts";
import { exitWithUsage, parseArgsOrExit } from "./cli_args_node.ts";

const USAGE = "npm run experiments:tune-lr -- --lr <a,b,…> [--iterations n] [--prompts n]";
const { values } = parseArgsOrExit(
  {
    options: {
      lr: { type: "string", default: "1e-2" },
      iterations: { type: "string", default: "12" },
      prompts: { type: "string", default: "8" },
    },
  },
  USAGE,
);
const rates = values.lr.split(",").map(Number);
const iterations = Number(values.iterations);
const promptCount = Number(values.prompts);
if (!rates.every((r) => r > 0) || !(Number.isInteger(iterations) && iterations > 0) || !(Number.isInteger(promptCount) && promptCount > 0))
  exitWithUsage(USAGE);

const STEPS = 10;
const REPEATS = 4;
const trainedScenes = sampleScenes(promptCount, { split: "train", seed: 4242 });
const trained: ToyEvaluationSet = {
  scenes: trainedScenes.flatMap((s) => new Array(REPEATS).fill(s)),
  prompts: trainedScenes.flatMap((s) => new Array<string>(REPEATS).fill(formatPrompt(s))),
  seeds: trainedScenes.flatMap((_, i) => Array.from({ length: REPEATS }, (_, k) => 30_000 + i * REPEATS + k)),
};
const otherScenes = sampleScenes(32, { split: "train", seed: 999 });
const other: ToyEvaluationSet = {
  scenes: otherScenes,
  prompts: otherScenes.map(formatPrompt),
  seeds: otherScenes.map((_, i) => 40_000 + i),
};

const device = await Device.create();
Device.setDefault(device);
const pipe = await loadToyModel();
const model = pipe.components;
const measure = async () =>
  Promise.all([trained, other].map(async (set) => (await evaluateToyModel(model, set, { steps: STEPS })).rewards));
const paired = (after: Float32Array, before: Float32Array) => {
  const d = meanWithInterval(Float32Array.from(after, (v, i) => v - before[i]!));
  return `${d.mean >= 0 ? "+" : ""}${d.mean.toFixed(4)} [${d.low.toFixed(4)} … ${d.high.toFixed(4)}]`;
};

const [baseTrained, baseOther] = await measure();
console.log(
  `base: trained prompts ${meanWithInterval(baseTrained).mean.toFixed(4)}, other training prompts ${meanWithInterval(baseOther).mean.toFixed(4)}`,
);
console.log("| lr | updates | LoRA norm change | mean clamped share | trained prompts − base | other training prompts − base | train s |");
console.log("| --- | --- | --- | --- | --- | --- | --- |");
for (const lr of rates) {
  const run = await fineTuneToySpo(model, {
    scorer: exactRewardScorer(),
    iterations,
    prompts: trainedScenes.map(formatPrompt),
    config: { learningRate: lr, sampleBatchSize: Math.min(promptCount, 8) },
  });
  const [afterTrained, afterOther] = await measure();
  const m = run.metrics;
  const clamped = m.reduce((a, x) => a + x.clampedFraction, 0) / Math.max(m.length, 1);
  const normChange = m.length > 0 ? m.at(-1)!.loraNorm - m[0]!.loraNorm : 0;
  console.log(
    `| ${lr} | ${m.length} | ${normChange.toFixed(3)} | ${clamped.toFixed(2)} | ${paired(afterTrained, baseTrained)} | ${paired(afterOther, baseOther)} | ${run.seconds.toFixed(0)} |`,
  );
  run.remove();
}
pipe.dispose();
device.destroy();
