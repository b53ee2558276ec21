// `npm run experiments:gradient-signal`: is there a consistent direction in the preference data
// that SPO and Diffusion-DPO train on? At the base model (a fresh LoRA: policy = reference), it
// collects each method's pairs for training prompts, takes the LoRA gradient of every minibatch,
// and estimates the expected gradient's squared norm against the per-pair noise (`gradientSignal`).
// Rows: SPO with the exact-reward scorer, with the toy step-aware SPM, the exact scorer's pairs with
// winner and loser swapped at random (a control with no signal by construction), and Diffusion-DPO's
// offline pairs. Training prompts only.
//   npm run experiments:gradient-signal -- [--prompts 96] [--batch 8] [--seed 0] [--out file.json]
import { writeFile } from "node:fs/promises";
import { DDIMScheduler } from "@spo/diffusion-unet";
import { injectLora } from "@spo/lora";
import {
  diffusionDpoMinibatchStep,
  type PreferencePair,
  SPO_TRAIN_DEFAULTS,
  type SpoPair,
  type StepScorer,
  sampleSpoPairs,
  spoMinibatchStep,
} from "@spo/trainer";
import { Device, RandomGenerator, type Tensor } from "@spo/wgpu-tensor";
import { trainingPrompts } from "../finetune/evaluation_set.ts";
import { exactRewardScorer } from "../finetune/exact_reward_scorer.ts";
import { loadToyModel } from "../model/load_toy_model_node.ts";
import { toyPromptEncoder } from "../model/toy_sampler.ts";
import { loadToySpm } from "../spm/load_toy_spm_node.ts";
import { exitWithUsage, parseArgsOrExit } from "./cli_args_node.ts";
import { offlinePairs } from "./experiment_run.ts";
import { type GradientSignal, gradientSignal } from "./gradient_signal.ts";

const USAGE = "npm run experiments:gradient-signal -- [--prompts n] [--batch n] [--seed n] [--out file.json]";
const { values } = parseArgsOrExit(
  {
    options: {
      prompts: { type: "string", default: "96" },
      batch: { type: "string", default: "8" },
      seed: { type: "string", default: "0" },
      out: { type: "string" },
    },
  },
  USAGE,
);
const promptCount = Number(values.prompts);
const batch = Number(values.batch);
const seed = Number(values.seed);
if (![promptCount, batch].every((v) => Number.isInteger(v) && v > 0) || !(Number.isInteger(seed) && seed >= 0)) exitWithUsage(USAGE);

const STEPS = 10;
const device = await Device.create();
Device.setDefault(device);
const pipe = await loadToyModel();
const model = pipe.components;
const { unet } = model;
const latentShape = [unet.config.inChannels, unet.config.sampleSize, unet.config.sampleSize];
const scheduler = DDIMScheduler.fromConfig(model.schedulerConfig);
const promptEncoder = toyPromptEncoder(model);
const adapter = injectLora(unet, {
  rank: SPO_TRAIN_DEFAULTS.loraRank,
  alpha: SPO_TRAIN_DEFAULTS.loraAlpha,
  init: "gaussian",
  targetModules: SPO_TRAIN_DEFAULTS.loraTargetModules,
  seed,
});
const params: Tensor[] = adapter.parameters();
const prompts = trainingPrompts(promptCount, { seed: 5000 + seed });

/** The flattened LoRA gradient of each minibatch (`step` accumulates into .grad; dropped after each). */
async function minibatchGradients<P>(pairs: readonly P[], step: (part: readonly P[]) => Promise<unknown>): Promise<Float32Array[]> {
  const size = params.reduce((n, p) => n + p.size, 0);
  const gradients: Float32Array[] = [];
  for (let start = 0; start + batch <= pairs.length; start += batch) {
    await step(pairs.slice(start, start + batch));
    const flat = new Float32Array(size);
    let offset = 0;
    for (const p of params) {
      if (p.grad) flat.set(await p.grad.toArray(), offset);
      offset += p.size;
      p.grad?.dispose();
      p.grad = null;
    }
    gradients.push(flat);
  }
  return gradients;
}

async function spoPairs(scorer: StepScorer): Promise<{ pairs: SpoPair[]; offered: number; seconds: number }> {
  const started = performance.now();
  const generator = new RandomGenerator(seed);
  const pairs: SpoPair[] = [];
  let offered = 0;
  for (let start = 0; start < prompts.length; start += 8) {
    const result = await sampleSpoPairs({ unet, scheduler, promptEncoder, scorer, generator }, prompts.slice(start, start + 8), {
      steps: STEPS,
      divertStartStep: 2,
      poolSize: 4,
      threshold: 0.3,
      latentShape,
      guidanceScale: 5,
      eta: 1,
    });
    result.latents.dispose();
    pairs.push(...result.pairs);
    offered += result.offered;
  }
  return { pairs, offered, seconds: (performance.now() - started) / 1000 };
}

const spoStep = (part: readonly SpoPair[]) => spoMinibatchStep({ unet, scheduler, promptEncoder }, part, latentShape, { guidanceScale: 5 });
const rows: { method: string; pairs: number; offered: number; estimate: GradientSignal }[] = [];
const report = (method: string, pairs: number, offered: number, estimate: GradientSignal) => {
  rows.push({ method, pairs, offered, estimate });
  console.error(`${method}: ${JSON.stringify(estimate)}`);
};

const exact = await spoPairs(exactRewardScorer());
report(
  "SPO, exact-reward scorer",
  exact.pairs.length,
  exact.offered,
  gradientSignal(await minibatchGradients(exact.pairs, spoStep), batch),
);
// SPO's gradient of a pair scales with 1/σ_t (the log-prob is a mean over elements): low t dominates
// the pooled estimate, so each timestep is also measured on its own
const timesteps = [...new Set(exact.pairs.map((p) => p.timestep))].sort((a, b) => b - a);
for (const t of timesteps) {
  const atT = exact.pairs.filter((p) => p.timestep === t);
  if (atT.length >= 2 * batch)
    report(`  exact scorer, t = ${t} only`, atT.length, promptCount, gradientSignal(await minibatchGradients(atT, spoStep), batch));
}
// the control: each pair's preference flipped by a fair coin (the expected gradient is zero)
const coin = new RandomGenerator(10_000 + seed);
const flips = await coin.rand([exact.pairs.length]).toArray();
const shuffled = exact.pairs.map((p, i) => (flips[i]! < 0.5 ? p : { ...p, winner: p.loser, loser: p.winner }));
report(
  "control: exact scorer's pairs, labels by coin",
  shuffled.length,
  exact.offered,
  gradientSignal(await minibatchGradients(shuffled, spoStep), batch),
);
const spm = await spoPairs(await loadToySpm("step-aware", { device }));
report("SPO, toy step-aware SPM", spm.pairs.length, spm.offered, gradientSignal(await minibatchGradients(spm.pairs, spoStep), batch));
const dpoPairs: PreferencePair[] = await offlinePairs(model, prompts, seed, STEPS);
const dpoGenerator = new RandomGenerator(20_000 + seed);
const dpoStep = (part: readonly PreferencePair[]) =>
  diffusionDpoMinibatchStep({ unet, scheduler, promptEncoder, generator: dpoGenerator }, part, latentShape, { beta: 5000 });
report(
  "Diffusion-DPO, offline pairs (exact reward)",
  dpoPairs.length,
  prompts.length,
  gradientSignal(await minibatchGradients(dpoPairs, dpoStep), batch),
);

console.log(`${promptCount} training prompts, minibatches of ${batch} pairs, seed ${seed}, LoRA gradient at the base model\n`);
console.log("| pairs from | pairs (offered) | minibatches | \\|μ\\|² | per-pair noise σ² | pairs for SNR 1 | cosine of the two halves |");
console.log("| --- | --- | --- | --- | --- | --- | --- |");
for (const { method, pairs, offered, estimate: e } of rows) {
  console.log(
    `| ${method} | ${pairs} (${offered}) | ${e.minibatches} | ${e.signal.toExponential(2)} | ${e.noisePerPair.toExponential(2)} | ${Number.isFinite(e.pairsForUnitSnr) ? Math.round(e.pairsForUnitSnr) : "∞ (no signal)"} | ${e.halvesCosine.toFixed(3)} |`,
  );
}
if (values.out) await writeFile(values.out, `${JSON.stringify({ prompts: promptCount, batch, seed, rows }, null, 1)}\n`);
adapter.remove();
pipe.dispose();
device.destroy();
