// `npm run experiments` (issue 15): the paper's claims on the toy world. Trains every run of the
// table from the shipped base model over several seeds (SPO, Diffusion-DPO, SPO's ablations),
// measures each on the same held-out prompts and noise seeds, and writes after every run:
// results.md (table), results.json (settings, machine, summaries, records), reward_vs_compute.svg
// and sample grids. `--quick` is a smoke run; `--help` lists the options.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { toPng } from "@spo/pipeline/node";
import type { StepScorer } from "@spo/trainer";
import { Device, tensor } from "@spo/wgpu-tensor";
import { evaluateToyModel, type ToyEvaluation } from "../finetune/evaluate.ts";
import { heldOutEvaluation, type ToyEvaluationSet } from "../finetune/evaluation_set.ts";
import { exactRewardScorer } from "../finetune/exact_reward_scorer.ts";
import { loadToyModel, TOY_BASE_MODEL_URL } from "../model/load_toy_model_node.ts";
import type { ToyModel } from "../model/toy_sampler.ts";
import { loadToySpm } from "../spm/load_toy_spm_node.ts";
import { formatPrompt } from "../world/grammar.ts";
import { imageGrid } from "../world/image_grid.ts";
import { IMAGE_SIZE, renderScene } from "../world/render.ts";
import { sampleScenes } from "../world/split.ts";
import { ComputeMeter } from "./compute_meter.ts";
import { EXPERIMENT_USAGE, type ExperimentOptions, ExperimentUsageError, parseExperimentOptions } from "./experiment_options.ts";
import { type RunSettings, runDiffusionDpo, runSpo, type TrainedRun } from "./experiment_run.ts";
import { type ExperimentVariant, selectVariants, type VariantScorer } from "./experiment_variants.ts";
import { markdownTable, resultsJson, type RunRecord, summarizeRuns } from "./results_table.ts";
import { rewardComputeChartSvg } from "./reward_compute_chart.ts";

const GRID_COLUMNS = 16;
const log = (line: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

let options: ExperimentOptions;
try {
  const parsed = parseExperimentOptions(process.argv.slice(2));
  if (parsed === null) {
    process.stdout.write(EXPERIMENT_USAGE);
    process.exit(0);
  }
  options = parsed;
} catch (error) {
  if (!(error instanceof ExperimentUsageError)) throw error;
  process.stderr.write(`experiments: ${error.message}\n\n${EXPERIMENT_USAGE}`);
  process.exit(2);
}

const startedAt = new Date();
const variants = selectVariants(options.variants);
const seeds = Array.from({ length: options.seeds }, (_, i) => i);
const device = await Device.create();
Device.setDefault(device);

// scorers: the toy preference models (or the exact reward for every SPO run with --scorer exact)
async function tryLoadSpm(kind: "step-aware" | "step-agnostic"): Promise<StepScorer | null> {
  try {
    return await loadToySpm(kind, { device });
  } catch (error) {
    log(`no toy ${kind} preference model (${(error as Error).message.split("\n")[0]})`);
    return null;
  }
}
const stepAwareSpm = await tryLoadSpm("step-aware");
const scorers = new Map<VariantScorer, StepScorer>();
scorers.set("exact", exactRewardScorer());
for (const kind of ["step-aware", "step-agnostic"] as const) {
  if (!variants.some((v) => v.scorer === kind)) continue;
  if (options.scorer === "exact") scorers.set(kind, exactRewardScorer());
  else {
    const spm = kind === "step-aware" ? stepAwareSpm : await tryLoadSpm(kind);
    if (!spm) {
      process.stderr.write(
        `experiments: the toy ${kind} preference model is missing; train it (npm run toyworld:train-spm) or pass --scorer exact\n`,
      );
      process.exit(2);
    }
    scorers.set(kind, spm);
  }
}

const pipe = await loadToyModel(TOY_BASE_MODEL_URL, { device });
const model: ToyModel = pipe.components;
const meter = ComputeMeter.attach(model.unet);
const evaluationSet = heldOutEvaluation({ count: options.evalCount });
const monitorScenes = sampleScenes(options.monitorCount, { split: "train", seed: 7777 });
const monitor: ToyEvaluationSet = {
  scenes: monitorScenes,
  prompts: monitorScenes.map(formatPrompt),
  seeds: monitorScenes.map((_, i) => 20_000 + i),
};
const settings: RunSettings = {
  iterations: options.iterations,
  steps: options.steps,
  checkpoints: options.checkpoints,
  learningRate: options.learningRate,
  monitor,
  dpoComputeRatio: options.dpoComputeRatio,
  dpoPairShare: options.dpoPairShare,
  dpoLearningRate: options.dpoLearningRate,
};

function git(args: string[]): string | null {
  try {
    return execFileSync("git", args, { encoding: "utf8" }).trim();
  } catch {
    return null;
  }
}
const machine = {
  cpu: cpus()[0]?.model ?? "unknown",
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  adapter: device.adapter.description,
  node: process.version,
  commit: git(["rev-parse", "--short", "HEAD"]),
  // which base model was measured (the shipped folder may be replaced between runs)
  baseUnetSha256: createHash("sha256")
    .update(await readFile(new URL("unet/diffusion_pytorch_model.safetensors", TOY_BASE_MODEL_URL)))
    .digest("hex")
    .slice(0, 16),
};
const command = `npm run experiments --${process.argv.slice(2).length > 0 ? ` ${process.argv.slice(2).join(" ")}` : ""}`;

/** Mean step-aware SPM score of final images (scored at t = 0), or null without the SPM. */
async function spmScoreOf(evaluation: ToyEvaluation): Promise<number | null> {
  if (!stepAwareSpm) return null;
  const n = evaluation.images.length;
  const data = new Float32Array(n * evaluation.images[0]!.length);
  evaluation.images.forEach((image, i) => data.set(image, i * image.length));
  const images = tensor(data, [n, 3, IMAGE_SIZE, IMAGE_SIZE], { device });
  try {
    const scores = await meter.paused(() =>
      stepAwareSpm.score(
        images,
        evaluationSet.prompts,
        evaluationSet.prompts.map(() => 0),
      ),
    );
    return Array.from(scores).reduce((a, b) => a + b, 0) / n;
  } finally {
    images.dispose();
  }
}

const records: RunRecord[] = [];
const gridImages = new Map<string, Float32Array[][]>(); // variant → one row of images per seed
let baseMonitorReward: number | undefined;
const truthRow = evaluationSet.scenes.slice(0, GRID_COLUMNS).map((scene, i) => renderScene(scene, { seed: evaluationSet.seeds[i] }));
const shown = Math.min(GRID_COLUMNS, options.evalCount);

async function writeOutputs(): Promise<void> {
  await mkdir(join(options.out, "grids"), { recursive: true });
  const summaries = summarizeRuns(variants, records);
  const finishedAt = new Date();
  const document = {
    settings: {
      ...options,
      command,
      evaluation: { split: "heldout", promptSeed: 2024, firstNoiseSeed: 10_000, eta: 0, guidanceScale: 5 },
      monitor: { split: "train", seed: 7777, firstNoiseSeed: 20_000 },
    },
    machine: { ...machine, startedAt: startedAt.toISOString(), writtenAt: finishedAt.toISOString() },
    summaries,
    records,
  };
  await writeFile(join(options.out, "results.json"), resultsJson(document));
  const minutes = ((finishedAt.getTime() - startedAt.getTime()) / 60_000).toFixed(1);
  const header = [
    "# Experiment results (generated)",
    "",
    `Command: \`${command}\` (scorer: ${options.scorer}); ${options.seeds} seed(s) × ${options.iterations} SPO iteration(s), ${options.evalCount} held-out images, ${options.steps} DDIM steps.`,
    `Machine: ${machine.cpu} × ${machine.cores} cores, ${machine.memoryGiB} GiB, adapter ${machine.adapter}, Node ${machine.node}, commit ${machine.commit}, base UNet sha256 ${machine.baseUnetSha256}…; started ${startedAt.toISOString()}, written ${finishedAt.toISOString()} (${minutes} min).`,
    `Runs finished: ${records.length}.`,
    "",
    "Held-out reward: mean exact reward of the (prompt, seed) images, averaged over training seeds with a 95 % Student-t interval; pooled: all images of all seeds, 95 % normal interval. Compute: UNet forward-equivalents of training (rows through the UNet, + 2 per row backpropagated), the mean over seeds; Diffusion-DPO's includes making its pairs.",
    "",
    "",
  ];
  await writeFile(join(options.out, "results.md"), `${header.join("\n")}${markdownTable(summaries)}`);
  await writeFile(
    join(options.out, "reward_vs_compute.svg"),
    rewardComputeChartSvg(records, summaries, { baseMonitorReward, title: `reward against training compute (${command})` }),
  );
  const truth = truthRow.slice(0, shown);
  for (const [id, rows] of gridImages) {
    const grid = imageGrid([...rows.flat(), ...truth], { columns: shown, size: IMAGE_SIZE, scale: 4 });
    await writeFile(join(options.out, "grids", `${id}.png`), toPng(grid));
  }
  const firstRows = variants.filter((v) => gridImages.has(v.id)).map((v) => gridImages.get(v.id)![0]!);
  await writeFile(
    join(options.out, "grids", "all_methods_seed0.png"),
    toPng(imageGrid([...firstRows.flat(), ...truth], { columns: shown, size: IMAGE_SIZE, scale: 4 })),
  );
}

async function evaluateAndRecord(variant: ExperimentVariant, seed: number, run: TrainedRun | null): Promise<RunRecord> {
  const evaluation = await meter.paused(() => evaluateToyModel(model, evaluationSet, { steps: options.steps }));
  const record: RunRecord = {
    variant: variant.id,
    seed,
    rewards: Array.from(evaluation.rewards),
    reward: evaluation.reward,
    spmScore: await spmScoreOf(evaluation),
    compute: { ...meter.count, forwardEquivalents: meter.forwardEquivalents },
    trainSeconds: run?.trainSeconds ?? 0,
    trainCpuSeconds: run?.trainCpuSeconds ?? 0,
    iterations: run?.iterations ?? 0,
    updates: run?.updates ?? 0,
    pairsKept: run?.pairsKept ?? 0,
    pairsOffered: run?.pairsOffered ?? 0,
    clampedFraction: run?.clampedFraction ?? null,
    curve: run?.curve ?? [],
  };
  if (!run) record.compute = { rows: 0, gradientRows: 0, forwardEquivalents: 0 };
  records.push(record);
  const rows = gridImages.get(variant.id) ?? [];
  rows.push(evaluation.images.slice(0, shown));
  gridImages.set(variant.id, rows);
  const r = evaluation.reward;
  log(
    `${variant.label}, seed ${seed}: held-out reward ${r.mean.toFixed(3)} [${r.low.toFixed(3)} … ${r.high.toFixed(3)}]` +
      (run
        ? `, ${record.compute.forwardEquivalents} fwd-equiv., ${run.trainSeconds.toFixed(0)} s training (CPU ${run.trainCpuSeconds.toFixed(0)} s), ${run.updates} updates, evaluation ${evaluation.seconds.toFixed(0)} s`
        : ""),
  );
  return record;
}

log(
  `${variants.length} runs × ${seeds.length} seed(s), ${options.iterations} SPO iteration(s), ${options.evalCount} held-out images; scorer ${options.scorer}; writing to ${options.out}/`,
);
if (variants.some((v) => v.id === "base")) {
  await evaluateAndRecord(variants.find((v) => v.id === "base")!, 0, null);
  baseMonitorReward = (await meter.paused(() => evaluateToyModel(model, monitor, { steps: options.steps }))).reward.mean;
  await writeOutputs();
}
for (const seed of seeds) {
  const spoCompute = new Map<number, number>();
  for (const variant of variants) {
    if (variant.method === "base") continue;
    const started = performance.now();
    const progress = (i: number) =>
      log(
        `  ${variant.label}, seed ${seed}: iteration ${i} (${((performance.now() - started) / 1000).toFixed(0)} s, ${meter.forwardEquivalents} fwd-equiv.)`,
      );
    let run: TrainedRun;
    if (variant.method === "spo") {
      run = await runSpo(model, variant, seed, scorers.get(variant.scorer ?? "step-aware")!, settings, meter, progress);
      if (variant.id === "spo") spoCompute.set(seed, meter.forwardEquivalents);
    } else {
      const reference = spoCompute.get(seed);
      if (reference === undefined) {
        log(`Diffusion-DPO, seed ${seed}: skipped, it needs SPO's compute of the same seed (add the spo variant)`);
        continue;
      }
      run = await runDiffusionDpo(model, seed, reference * options.dpoComputeRatio, settings, meter, progress);
    }
    try {
      await evaluateAndRecord(variant, seed, run);
    } finally {
      run.remove();
    }
    await writeOutputs();
  }
}
meter.detach();
pipe.dispose();
device.destroy();
const summaries = summarizeRuns(variants, records);
process.stdout.write(markdownTable(summaries));
log(
  `done in ${((Date.now() - startedAt.getTime()) / 60_000).toFixed(1)} min; wrote ${options.out}/results.md, results.json, reward_vs_compute.svg, grids/`,
);
