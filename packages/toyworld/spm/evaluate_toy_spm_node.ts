/**
 * Pairwise accuracy of the shipped toy preference models (or `--spm <folder>`), per timestep, on three
 * pair sets, written to `evaluation.json` beside them:
 * - `renderedHeldOut`: rendered pairs for held-out prompts (the world's preferences in general);
 * - `sampledTraining`: pairs of base samples for fresh training prompts (what SPO asks the scorer);
 * - `sampledHeldOut`: pairs of base samples for held-out prompts.
 * `node --conditions=@spo/source --import tsx packages/toyworld/spm/evaluate_toy_spm_node.ts [--pairs 128] [--prompts 16]`
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadDefaultClipTokenizer } from "@spo/clip/node";
import { evaluatePairwiseAccuracy, type PairwiseAccuracy, SPM_EVAL_TIMESTEPS } from "@spo/step-preference-model";
import { Device } from "@spo/wgpu-tensor";
import { loadToyModel, TOY_BASE_MODEL_URL } from "../model/load_toy_model_node.ts";
import { baseSamples } from "./base_samples.ts";
import { loadToySpmModel, TOY_SPM_URL } from "./load_toy_spm_node.ts";
import { type HostPairs, pairBatch, renderedPairs, sampledPairs } from "./preference_pairs.ts";
import { memoisedDenoiser, toyStepDenoiser } from "./toy_denoiser.ts";

const { values } = parseArgs({
  options: {
    spm: { type: "string", default: fileURLToPath(TOY_SPM_URL) },
    base: { type: "string", default: fileURLToPath(TOY_BASE_MODEL_URL) },
    pairs: { type: "string", default: "128" },
    prompts: { type: "string", default: "16" },
  },
});
const started = performance.now();
const seconds = () => Math.round((performance.now() - started) / 1000);
const device = await Device.create();
const tokenizer = await loadDefaultClipTokenizer();
const base = await loadToyModel(values.base!, { device });
const denoiser = memoisedDenoiser(toyStepDenoiser(base.components), device);
const models = {
  "step-aware": await loadToySpmModel("step-aware", { device, folder: values.spm }),
  "step-agnostic": await loadToySpmModel("step-agnostic", { device, folder: values.spm }),
};
const sampling = { samplesPerPrompt: 4, steps: 10 };
const log = (message: string) => console.log(`  ${message} (${seconds()} s)`);
const promptCount = Number(values.prompts);
const training = await baseSamples(base.components, "train", promptCount, 101, sampling, log);
const heldOut = await baseSamples(base.components, "heldout", promptCount, 102, sampling, log);
const sets: Record<string, HostPairs> = {
  renderedHeldOut: renderedPairs(Number(values.pairs), { seed: 9, split: "heldout" }),
  sampledTraining: sampledPairs(training.images, training.prompts, sampling.samplesPerPrompt),
  sampledHeldOut: sampledPairs(heldOut.images, heldOut.prompts, sampling.samplesPerPrompt),
};
const results: Record<string, Record<string, PairwiseAccuracy[]>> = {};
for (const [setName, pairs] of Object.entries(sets)) {
  const count = pairs.labels.length;
  const batches = Array.from({ length: Math.ceil(count / 64) }, (_, i) => pairBatch(pairs, i * 64, Math.min(64, count - i * 64), device));
  results[setName] = {};
  for (const [name, model] of Object.entries(models)) {
    const accuracy = await evaluatePairwiseAccuracy(model, batches, { tokenizer, denoiser, timesteps: SPM_EVAL_TIMESTEPS, seed: 5 });
    results[setName][name] = accuracy;
    const row = accuracy.map((a) => `t=${a.timestep} ${(100 * a.accuracy).toFixed(1)} %`).join(", ");
    console.log(`${setName} ${name}: ${row} (${accuracy[0]!.count} decided of ${count}) (${seconds()} s)`);
  }
  for (const b of batches) {
    b.imagesA.dispose();
    b.imagesB.dispose();
  }
}
const report = { results, pairs: Object.fromEntries(Object.entries(sets).map(([k, v]) => [k, v.labels.length])), wallSeconds: seconds() };
await writeFile(join(values.spm!, "evaluation.json"), `${JSON.stringify(report, null, 2)}\n`);
console.log(`wrote ${join(values.spm!, "evaluation.json")} in ${seconds()} s`);
for (const model of Object.values(models)) model.dispose();
base.dispose();
device.destroy();
