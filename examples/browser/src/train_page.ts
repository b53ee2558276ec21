/**
 * The Train page: SPO on the toy world in the tab. Start, pause and resume; live charts of loss,
 * reward and pairs kept; a before/after grid; the LoRA as a diffusers safetensors download; every
 * iteration checkpointed to IndexedDB, so a reload resumes the run where it stopped.
 *
 * State for people and tests: `document.body.dataset.state` is one of starting, no-webgpu, loading,
 * ready (no run yet), training, pausing, paused, done, error; `dataset.updates` counts updates.
 *
 * @module
 */
import { loadStableDiffusionPipeline, type StableDiffusionPipeline } from "@spo/pipeline";
import type { SpoTrainer, UpdateMetrics } from "@spo/trainer";
import { indexedDbCheckpointStore } from "./idb_checkpoint_store.ts";
import { lineChartSvg } from "./line_charts.ts";
import { modelName, urlFolderSource } from "./model_sources.ts";
import { beforeAfter, createToyTrainer, loraBytes, type ToyTrainSettings, trainingPrompts } from "./toy_training.ts";
import { acquireDevice } from "./webgpu_support.ts";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const SETTINGS_KEY = "spo-train-settings";
const store = indexedDbCheckpointStore("spo-toy-training");

let pipe: StableDiffusionPipeline | null = null;
let trainer: SpoTrainer | null = null;
let settings: ToyTrainSettings | null = null;
let controller: AbortController | null = null;

function setState(state: string): void {
  document.body.dataset.state = state;
  const running = state === "training" || state === "pausing";
  $<HTMLButtonElement>("start").disabled = running || state === "done" || pipe === null;
  $<HTMLButtonElement>("start").textContent = trainer ? "Resume" : "Start";
  $<HTMLButtonElement>("pause").disabled = state !== "training";
  $<HTMLButtonElement>("download-lora").disabled = trainer === null || running;
  $<HTMLButtonElement>("new-run").disabled = running || pipe === null;
  $<HTMLButtonElement>("refresh-grid").disabled = running || pipe === null;
  for (const input of $("run-settings").querySelectorAll("input")) input.disabled = trainer !== null;
}

function status(text: string): void {
  $("train-status").textContent = text;
}

function readRunSettings(): ToyTrainSettings {
  const number = (id: string, label: string, min: number, max: number, integer = true) => {
    const text = $<HTMLInputElement>(id).value.trim();
    const value = Number(text);
    if (text === "" || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
      $<HTMLInputElement>(id).focus();
      throw new RangeError(`${label} must be ${integer ? "a whole number" : "a number"} from ${min} to ${max}, not "${text}"`);
    }
    return value;
  };
  return {
    prompts: number("prompts", "Prompts", 1, 1000),
    epochs: number("epochs", "Epochs", 1, 100),
    seed: number("seed", "Seed", 0, 2 ** 32 - 1),
    steps: number("steps", "DDIM steps", 2, 100),
    poolSize: number("pool", "Pool size", 2, 16),
    sampleBatchSize: number("batch", "Prompts per iteration", 1, 32),
    learningRate: number("lr", "Learning rate", 0, 1, false),
    threshold: number("threshold", "Threshold", 0, 0.99, false),
  };
}

function showSettings(s: ToyTrainSettings): void {
  const values: Record<string, number> = {
    prompts: s.prompts,
    epochs: s.epochs,
    seed: s.seed,
    steps: s.steps,
    pool: s.poolSize,
    batch: s.sampleBatchSize,
    lr: s.learningRate,
    threshold: s.threshold,
  };
  for (const [id, value] of Object.entries(values)) $<HTMLInputElement>(id).value = String(value);
}

function drawCharts(metrics: readonly UpdateMetrics[]): void {
  const series = (label: string, color: string, y: (m: UpdateMetrics) => number | null) =>
    lineChartSvg({ label, color, points: metrics.map((m) => ({ x: m.update, y: y(m) })) });
  $("chart-loss").innerHTML = series("loss", "#2f6fdf", (m) => m.loss);
  $("chart-reward").innerHTML = series("reward (final samples)", "#d62728", (m) => m.reward);
  $("chart-pairs").innerHTML = series("pairs kept (fraction of pools)", "#2ca02c", (m) =>
    m.pairsOffered > 0 ? m.pairsKept / m.pairsOffered : null,
  );
  document.body.dataset.updates = String(metrics.length);
}

function showProgress(): void {
  if (!trainer) return;
  const { progress, totalIterations } = trainer;
  $<HTMLProgressElement>("train-progress").max = totalIterations;
  $<HTMLProgressElement>("train-progress").value = Math.min(progress.iteration, totalIterations);
  const last = trainer.metrics.at(-1);
  const seconds = last ? ` · ${(last.seconds / Math.max(1, trainer.metrics.length)).toFixed(1)} s per update` : "";
  status(
    `Epoch ${Math.min(progress.epoch + 1, trainer.config.epochs)} of ${trainer.config.epochs} · iteration ${progress.iteration} of ${totalIterations} · update ${trainer.metrics.length}${seconds}`,
  );
}

function drawImage(canvas: HTMLCanvasElement, images: Float32Array, index: number, size: number): void {
  canvas.width = canvas.height = size;
  const context = canvas.getContext("2d")!;
  const data = context.createImageData(size, size);
  const plane = size * size;
  const base = index * 3 * plane;
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++)
      data.data[p * 4 + c] = Math.round(Math.min(1, Math.max(0, images[base + c * plane + p]! * 0.5 + 0.5)) * 255);
    data.data[p * 4 + 3] = 255;
  }
  context.putImageData(data, 0, 0);
}

async function refreshGrid(): Promise<void> {
  if (!pipe || !settings) return;
  const prompts = trainingPrompts(settings.prompts, settings.seed).slice(0, 4);
  const size = pipe.components.unet.config.sampleSize;
  const previous = $("train-status").textContent ?? "";
  status("Sampling the before / after grid…");
  const { before, after } = await beforeAfter(pipe, prompts, settings.steps);
  const grid = $("grid");
  grid.style.setProperty("--columns", String(prompts.length));
  const cells: HTMLElement[] = [document.createElement("span")];
  for (const prompt of prompts) {
    const caption = document.createElement("span");
    caption.className = "prompt";
    caption.textContent = prompt;
    cells.push(caption);
  }
  for (const [label, images] of [
    ["before", before],
    ["after", after],
  ] as const) {
    const name = document.createElement("strong");
    name.textContent = label;
    cells.push(name);
    prompts.forEach((prompt, i) => {
      const canvas = document.createElement("canvas");
      canvas.setAttribute("aria-label", `${label}: ${prompt}`);
      drawImage(canvas, images, i, size);
      cells.push(canvas);
    });
  }
  grid.replaceChildren(...cells);
  status(previous);
}

async function ensureTrainer(resume: boolean): Promise<void> {
  if (trainer || !pipe || !settings) return;
  trainer = await createToyTrainer(pipe, settings, store, {
    resume,
    onProgress: (event) => {
      if (event.phase === "sample" && event.step !== undefined)
        status(`Iteration ${event.iteration + 1} of ${event.totalIterations}: sampling step ${event.step} of ${event.steps}`);
      if (event.phase === "train") status(`Iteration ${event.iteration + 1} of ${event.totalIterations}: training on the kept pairs`);
    },
    onMetrics: (_metrics, all) => {
      drawCharts(all);
      showProgress();
    },
  });
}

async function train(): Promise<void> {
  $("form-error").textContent = "";
  try {
    if (!trainer) {
      settings = readRunSettings();
      localStorage.setItem(SETTINGS_KEY, JSON.stringify(settings));
      await store.clear();
      await ensureTrainer(false);
    }
    controller = new AbortController();
    setState("training");
    showProgress();
    await trainer!.run({ signal: controller.signal });
    setState("pausing");
    await refreshGrid();
    showProgress();
    if (trainer!.isDone) {
      status(`Done: ${trainer!.metrics.length} updates. Download the LoRA, or load it in Quick Generate.`);
      setState("done");
    } else {
      status(`Paused after update ${trainer!.metrics.length} (saved in this browser). Resume, or reload the page: it continues from here.`);
      setState("paused");
    }
  } catch (error) {
    $("form-error").textContent = error instanceof Error ? error.message : String(error);
    setState(trainer ? "paused" : "ready");
    document.body.dataset.error = "1";
  }
}

async function main(): Promise<void> {
  const outcome = await acquireDevice();
  if (outcome.device === null) {
    const notice = $("no-webgpu");
    notice.hidden = false;
    notice.innerHTML = "<strong>WebGPU is not available.</strong> ";
    notice.append(outcome.reason);
    for (const element of $<HTMLFormElement>("settings").elements) (element as HTMLInputElement).disabled = true;
    status("This page cannot run here: see the note above.");
    document.body.dataset.state = "no-webgpu";
    return;
  }
  $("adapter").textContent = `WebGPU: ${outcome.adapter}`;
  drawCharts([]);
  $<HTMLFormElement>("settings").addEventListener("submit", (event) => {
    event.preventDefault();
    void train();
  });
  $("pause").addEventListener("click", () => {
    controller?.abort();
    setState("pausing");
    status("Pausing after this iteration…");
  });
  $("download-lora").addEventListener("click", async () => {
    if (!trainer) return;
    const url = URL.createObjectURL(
      new Blob([(await loraBytes(trainer)) as Uint8Array<ArrayBuffer>], { type: "application/octet-stream" }),
    );
    const link = document.createElement("a");
    link.href = url;
    link.download = `spo_toy_lora_update${trainer.metrics.length}.safetensors`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  });
  $("new-run").addEventListener("click", async () => {
    if (!confirm("Forget the stored run and start again?")) return;
    await store.clear();
    localStorage.removeItem(SETTINGS_KEY);
    location.reload();
  });
  $("refresh-grid").addEventListener("click", () => void refreshGrid());

  const url = $<HTMLInputElement>("model-url").value.trim();
  setState("loading");
  try {
    pipe = await loadStableDiffusionPipeline(
      urlFolderSource(url, ({ file, bytesRead, byteLength }) => {
        if (byteLength) $<HTMLProgressElement>("load-progress").value = bytesRead / byteLength;
        $("model-status").textContent = `Streaming ${file}…`;
      }),
    );
    $<HTMLProgressElement>("load-progress").value = 1;
    $("model-status").textContent = `Loaded ${modelName(url)}`;
  } catch (error) {
    $("model-status").textContent = error instanceof Error ? error.message : String(error);
    status("No model: the Train page needs the toy model folder.");
    setState("error");
    return;
  }
  const saved = localStorage.getItem(SETTINGS_KEY);
  if (saved !== null && (await store.latest()) !== null) {
    settings = JSON.parse(saved) as ToyTrainSettings;
    showSettings(settings);
    await ensureTrainer(true);
    drawCharts(trainer!.metrics);
    showProgress();
    await refreshGrid();
    status(`Resumed the stored run at update ${trainer!.metrics.length}. Press Resume to continue.`);
    setState(trainer!.isDone ? "done" : "paused");
    return;
  }
  settings = readRunSettings();
  setState("ready");
  status("Ready: press Start.");
}

void main();
