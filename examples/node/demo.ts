// The project's main job, runnable on a fresh machine: `npm run demo` (`npm run demo -- --help`).
//
// 1. Finds a WebGPU adapter and checks two computations on it against plain JS.
// 2. Measures the toy world's shipped base model on held-out prompts (colour–shape pairs it never
//    saw): one image per prompt and seed, scored by the exact reward, mean with a 95 % interval.
// 3. Fine-tunes it with SPO (a LoRA, training prompts only) under a progress bar.
// 4. Measures it again on the same prompts and seeds, and writes into one output folder: the
//    samples before and after (PNG), the loss and reward curves (SVG), summary.json, the metrics
//    per update and the LoRA. Seeded: the same options give the same numbers on the same adapter.
import { access, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { saveLora } from "@spo/lora";
import { writeLoraFile } from "@spo/lora/node";
import { toPng } from "@spo/pipeline/node";
import type { StepScorer } from "@spo/trainer";
import { metricsChartSvg, metricsLine, progressWithEta } from "@spo/trainer/node";
import {
  evaluateToyModel,
  exactRewardScorer,
  fineTuneToySpo,
  heldOutEvaluation,
  IMAGE_SIZE,
  imageGrid,
  loadToyModel,
  loadToySpm,
  meanWithInterval,
  renderScene,
  TOY_BASE_MODEL_URL,
  TOY_SPM_URL,
  TOY_SPO_DEFAULTS,
  type ToyEvaluation,
} from "@spo/toyworld/node";
import { Device } from "@spo/wgpu-tensor";
import { checkAdapter } from "./demo/adapter_check.ts";
import { DEMO_USAGE, type DemoOptions, DemoUsageError, parseDemoOptions } from "./demo/demo_options.ts";
import { checkModelFolder, DEMO_FILES, prepareOutputFolder } from "./demo/output_folder.ts";
import { trainingProgressBar } from "./demo/progress_bar.ts";

const GRID_COLUMNS = 16;
const log = (line: string) => console.log(line);
const isTty = process.stderr.isTTY === true;

async function parseOrExit(): Promise<{ options: DemoOptions; replaced: string[] }> {
  try {
    const options = parseDemoOptions(process.argv.slice(2));
    if (options === null) {
      process.stdout.write(DEMO_USAGE);
      process.exit(0);
    }
    if (options.model !== null) await checkModelFolder(options.model);
    await checkScorer(options.scorer);
    return { options, replaced: await prepareOutputFolder(options.out, options.isOverwriteAllowed) };
  } catch (error) {
    if (!(error instanceof DemoUsageError)) throw error;
    process.stderr.write(`demo: ${error.message}\n\n${DEMO_USAGE}`);
    process.exit(2);
  }
}

/** SPO's scorer: the toy step-aware preference model shipped with @spo/toyworld, or the exact reward. */
async function loadScorer(kind: DemoOptions["scorer"], device: Device): Promise<StepScorer> {
  if (kind === "exact") return exactRewardScorer();
  return await loadToySpm("step-aware", { device });
}

/** Refuses `--scorer spm` before any work when this checkout has no toy SPM weights. */
async function checkScorer(kind: DemoOptions["scorer"]): Promise<void> {
  if (kind !== "spm") return;
  const config = new URL("step_aware/config.json", TOY_SPM_URL);
  await access(config).catch(() => {
    throw new DemoUsageError(
      `--scorer spm: the toy step-aware preference model is not in this checkout (${fileURLToPath(config)}); use --scorer exact`,
    );
  });
}

function formatReward(r: { mean: number; low: number; high: number }): string {
  return `${r.mean.toFixed(3)} (95 % CI ${r.low.toFixed(3)}–${r.high.toFixed(3)})`;
}

function evaluationProgress(label: string): (event: { done: number; total: number }) => void {
  const started = performance.now();
  return ({ done, total }) => log(`${label}: ${done}/${total} images (${((performance.now() - started) / 1000).toFixed(0)} s)`);
}

const { options, replaced } = await parseOrExit();
const startedAt = performance.now();
const cpuAtStart = process.cpuUsage();
if (replaced.length > 0) log(`--overwrite: replacing ${replaced.join(", ")} in ${options.out}`);

// 1. the adapter
const device = await Device.create();
Device.setDefault(device);
if (!(await checkAdapter(device, log))) {
  process.stderr.write("demo: this adapter computed wrong answers; stopping before the fine-tune\n");
  device.destroy();
  process.exit(1);
}
const preambleSeconds = (performance.now() - startedAt) / 1000;

// 2. the base model on held-out prompts
const scorer = await loadScorer(options.scorer, device);
const pipe = await loadToyModel(options.model ?? TOY_BASE_MODEL_URL, { device });
const model = pipe.components;
const evaluationSet = heldOutEvaluation({ count: options.evalCount });
const steps = options.steps;
const evaluationOptions = { steps, guidanceScale: 5 };
log(
  `\nbase model${options.model ? ` ${options.model}` : ""}: ${model.unet.parameterCount().toLocaleString("en")} UNet parameters, 16×16 pixels, ${steps} DDIM steps, CFG 5`,
);
const before = await evaluateToyModel(model, evaluationSet, { ...evaluationOptions, onProgress: evaluationProgress("held-out, before") });
log(`held-out reward before: ${formatReward(before.reward)}`);

// 3. SPO
log(
  `\nSPO: ${options.iterations} iteration${options.iterations === 1 ? "" : "s"} of ${TOY_SPO_DEFAULTS.sampleBatchSize} training prompts, ${options.scorer} scorer, seed ${options.seed}`,
);
const run = await fineTuneToySpo(model, {
  scorer,
  iterations: options.iterations,
  config: { seed: options.seed, steps, learningRate: options.learningRate },
  onProgress: trainingProgressBar((text) => process.stderr.write(text), isTty),
});
process.stderr.write(`${isTty ? "\r" : ""}${progressWithEta("SPO done".padEnd(24), run.iterations, run.iterations, run.seconds)}\n`);
const last = run.metrics.at(-1);
log(
  `${run.metrics.length} updates in ${run.seconds.toFixed(0)} s` +
    (last ? `; last loss ${last.loss.toFixed(4)}, pairs kept ${last.pairsKept}/${last.pairsOffered}` : "; no pair passed the threshold"),
);

// 4. the fine-tuned model on the same prompts and seeds
const after = await evaluateToyModel(model, evaluationSet, { ...evaluationOptions, onProgress: evaluationProgress("held-out, after") });
const difference = meanWithInterval(Array.from(after.rewards, (r, i) => r - before.rewards[i]!));
const wallSeconds = (performance.now() - startedAt) / 1000;
const cpu = process.cpuUsage(cpuAtStart);

// outputs
const out = (name: string) => join(options.out, name);
const shown = Math.min(GRID_COLUMNS, options.evalCount);
const truth = evaluationSet.scenes.slice(0, shown).map((scene, i) => renderScene(scene, { seed: evaluationSet.seeds[i] }));
const rows = (e: ToyEvaluation) => e.images.slice(0, shown);
const grid = imageGrid([...rows(before), ...rows(after), ...truth], { columns: shown, size: IMAGE_SIZE, scale: 4 });
await writeFile(out(DEMO_FILES.grid), toPng(grid));
await writeFile(out(DEMO_FILES.chart), metricsChartSvg(run.metrics, { title: `SPO on the toy model (${options.scorer} scorer)` }));
await writeFile(out(DEMO_FILES.metrics), run.metrics.map(metricsLine).join(""));
await writeLoraFile(out(DEMO_FILES.lora), await saveLora(run.adapter, "diffusers"));
const summary = {
  scorer: options.scorer,
  model: options.model ?? "shipped base model",
  seed: options.seed,
  adapter: device.adapter.description,
  evaluationImages: options.evalCount,
  evaluation: { split: "heldout", promptSeed: 2024, firstNoiseSeed: evaluationSet.seeds[0], ...evaluationOptions, eta: 0 },
  before: before.reward,
  after: after.reward,
  difference,
  iterations: run.iterations,
  updates: run.metrics.length,
  wallSeconds,
  cpuSeconds: (cpu.user + cpu.system) / 1e6,
  phaseSeconds: { preamble: preambleSeconds, evaluationBefore: before.seconds, fineTune: run.seconds, evaluationAfter: after.seconds },
  config: run.config,
  gridRows: ["before", "after", "rendered ground truth"],
  shownPrompts: evaluationSet.prompts.slice(0, shown),
  rewardsBefore: Array.from(before.rewards),
  rewardsAfter: Array.from(after.rewards),
};
await writeFile(out(DEMO_FILES.summary), `${JSON.stringify(summary, null, 2)}\n`);
run.remove();
pipe.dispose();
device.destroy();

log(`\nmean exact reward on ${options.evalCount} held-out prompts (same seeds):`);
log(`  before SPO  ${formatReward(before.reward)}`);
log(`  after SPO   ${formatReward(after.reward)}`);
log(`  difference  ${difference.mean >= 0 ? "+" : ""}${formatReward(difference)} (paired, image by image)`);
log(`wall time ${wallSeconds.toFixed(0)} s (CPU time ${summary.cpuSeconds.toFixed(0)} s)`);
log(`wrote ${Object.values(DEMO_FILES).join(", ")} in ${options.out}/`);
