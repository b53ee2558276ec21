/**
 * The Quick Generate page: loads a diffusers model folder (the toy world's model by default, any
 * SD1.5 folder by URL or picked from disk), then generates with A1111 prompt syntax, `<lora:…>`
 * tags from picked files, live previews, a progress bar, cancel, and PNG downloads that carry the
 * A1111 `parameters` text.
 *
 * State for people and tests: `document.body.dataset.state` is one of starting, no-webgpu, idle,
 * loading, ready, running, done, cancelled, error.
 *
 * @module
 */
import {
  loadStableDiffusionPipeline,
  SCHEDULER_NAMES,
  type StableDiffusionPipeline,
  toImageData,
  type RgbaImage,
  tensorToRgba,
} from "@spo/pipeline";
import { A1111_SAMPLER_NAMES, formatInfotext } from "./infotext.ts";
import { readSettings, SettingsError, type GenerationSettings } from "./generation_form.ts";
import { loraName, loraResolver } from "./lora_files.ts";
import { localFolderSource, type LoadProgress, modelName, urlFolderSource } from "./model_sources.ts";
import { encodePng } from "./png_text.ts";
import { acquireDevice } from "./webgpu_support.ts";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const form = $<HTMLFormElement>("settings");
const generateButton = $<HTMLButtonElement>("generate");
const cancelButton = $<HTMLButtonElement>("cancel");
const stepProgress = $<HTMLProgressElement>("step-progress");
const stepStatus = $("step-status");
const loadProgress = $<HTMLProgressElement>("load-progress");
const modelStatus = $("model-status");
const formError = $("form-error");
const preview = $<HTMLCanvasElement>("preview");
const previewCaption = $("preview-caption");
const results = $<HTMLUListElement>("results");
const loraFiles = $<HTMLInputElement>("lora-files");

/** Thrown from the step callback to stop sampling after the step that is running. */
class GenerationCancelled extends Error {
  override name = "GenerationCancelled";
}

let pipe: StableDiffusionPipeline | null = null;
let model = "";
let cancelRequested = false;
let busy = false;

function setState(state: string): void {
  document.body.dataset.state = state;
}

function setBusy(value: boolean, running = false): void {
  busy = value;
  generateButton.disabled = value || pipe === null;
  cancelButton.disabled = !running;
  for (const id of ["load-url", "model-dir"]) $<HTMLButtonElement>(id).disabled = value;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function showLoadProgress({ file, bytesRead, byteLength }: LoadProgress): void {
  if (byteLength) loadProgress.value = bytesRead / byteLength;
  modelStatus.textContent = `Streaming ${file}: ${megabytes(bytesRead)}${byteLength ? ` of ${megabytes(byteLength)}` : ""}`;
}

async function loadModel(source: Parameters<typeof loadStableDiffusionPipeline>[0], name: string): Promise<void> {
  if (busy) return;
  setBusy(true);
  setState("loading");
  pipe?.dispose();
  pipe = null;
  loadProgress.value = 0;
  modelStatus.textContent = `Loading ${name}…`;
  const taesd = $<HTMLInputElement>("taesd-url").value.trim();
  const started = performance.now();
  try {
    pipe = await loadStableDiffusionPipeline(source, {
      taesd: taesd === "" ? undefined : urlFolderSource(taesd, showLoadProgress),
      onProgress: (part) => (modelStatus.textContent = `Loading ${part}…`),
    });
    model = name;
    const { unet, vae } = pipe.components;
    const factor = vae ? 2 ** (vae.config.blockOutChannels.length - 1) : 1;
    const size = unet.config.sampleSize * factor;
    $<HTMLInputElement>("width").value = $<HTMLInputElement>("height").value = String(size);
    for (const id of ["width", "height"]) $<HTMLInputElement>(id).step = String(8 * factor);
    loadProgress.value = 1;
    const space = vae
      ? `latent space, ${pipe.components.taesd ? "TAESD previews" : "no previews without TAESD"}`
      : "pixel space, previews of the current sample";
    modelStatus.textContent = `Loaded ${name} (${size}×${size}, ${space}) in ${((performance.now() - started) / 1000).toFixed(1)} s`;
    stepStatus.textContent = "Ready.";
    setState("ready");
  } catch (error) {
    modelStatus.textContent = `${error instanceof Error ? error.message : String(error)}`;
    setState("error");
  } finally {
    setBusy(false);
  }
}

function drawImage(image: RgbaImage): void {
  preview.width = image.width;
  preview.height = image.height;
  preview.getContext("2d")!.putImageData(toImageData(image), 0, 0);
}

async function resultItem(image: RgbaImage, settings: GenerationSettings, seed: number): Promise<HTMLLIElement> {
  const parameters = formatInfotext({ ...settings, seed, cfgScale: settings.cfgScale, model });
  const png = await encodePng(image, { parameters });
  const url = URL.createObjectURL(new Blob([png as Uint8Array<ArrayBuffer>], { type: "image/png" }));
  const item = document.createElement("li");
  const img = document.createElement("img");
  img.src = url;
  img.alt = `${settings.prompt} (seed ${seed})`;
  img.title = parameters;
  const link = document.createElement("a");
  link.href = url;
  link.download = `${model}-${seed}.png`;
  link.textContent = `Download PNG (seed ${seed})`;
  item.append(img, link);
  return item;
}

async function generate(): Promise<void> {
  if (busy || pipe === null) return;
  formError.textContent = "";
  const { vae } = pipe.components;
  let settings: GenerationSettings;
  try {
    settings = readSettings(form, vae ? 8 * 2 ** (vae.config.blockOutChannels.length - 1) : 8);
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    formError.textContent = error.message;
    $<HTMLInputElement>(error.field).focus();
    return;
  }
  cancelRequested = false;
  setBusy(true, true);
  setState("running");
  stepProgress.max = settings.steps;
  stepProgress.value = 0;
  stepStatus.textContent = "Encoding the prompt…";
  const current = pipe;
  const started = performance.now();
  let stepsDone = 0;
  try {
    const output = await current.generate({
      prompt: settings.prompt,
      negativePrompt: settings.negativePrompt,
      numInferenceSteps: settings.steps,
      guidanceScale: settings.cfgScale,
      seed: settings.seed,
      scheduler: settings.sampler,
      width: settings.width,
      height: settings.height,
      numImagesPerPrompt: settings.batch,
      loras: loraResolver([...(loraFiles.files ?? [])]),
      onStep: async (info) => {
        stepsDone = info.step;
        const perStep = (performance.now() - started) / info.step;
        document.body.dataset.msPerStep = perStep.toFixed(0);
        stepProgress.value = info.step;
        stepStatus.textContent = `Step ${info.step} of ${info.steps} · ${perStep.toFixed(0)} ms per step`;
        if (current.components.taesd) {
          drawImage((await info.preview())[0]!);
          previewCaption.textContent = `TAESD preview, step ${info.step}`;
        } else if (current.components.vae === null) {
          drawImage((await tensorToRgba(info.latents))[0]!);
          previewCaption.textContent = `Current sample, step ${info.step}`;
        }
        if (cancelRequested) throw new GenerationCancelled(`Cancelled after step ${info.step} of ${info.steps}`);
      },
    });
    const seconds = (performance.now() - started) / 1000;
    // the newest batch first, its images in seed order
    const items = await Promise.all(output.images.map((image, i) => resultItem(image, settings, output.seeds[i]!)));
    items[0]!.classList.add("batch-start");
    results.prepend(...items);
    drawImage(output.images[0]!);
    previewCaption.textContent = "Final image (first of the batch)";
    stepStatus.textContent = `Done: ${settings.batch} image${settings.batch > 1 ? "s" : ""}, ${settings.steps} steps (${A1111_SAMPLER_NAMES[settings.sampler]}) in ${seconds.toFixed(1)} s`;
    setState("done");
  } catch (error) {
    if (error instanceof GenerationCancelled) {
      stepStatus.textContent = error.message;
      document.body.dataset.cancelledAfter = String(stepsDone);
      setState("cancelled");
    } else {
      stepStatus.textContent = "";
      formError.textContent = error instanceof Error ? error.message : String(error);
      setState("error");
    }
  } finally {
    setBusy(false);
  }
}

function insertAtCursor(field: HTMLTextAreaElement, text: string): void {
  const at = field.selectionStart ?? field.value.length;
  const before = field.value.slice(0, at);
  const spaced = `${before && !/\s$/.test(before) ? " " : ""}${text} `;
  field.setRangeText(spaced, at, field.selectionEnd ?? at, "end");
  field.focus();
}

function showLoraList(): void {
  const list = $<HTMLUListElement>("lora-list");
  list.replaceChildren(
    ...[...(loraFiles.files ?? [])].map((file) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = loraName(file);
      button.setAttribute("aria-label", `Add <lora:${loraName(file)}:1> to the prompt`);
      button.addEventListener("click", () => insertAtCursor($<HTMLTextAreaElement>("prompt"), `<lora:${loraName(file)}:1>`));
      item.append(button);
      return item;
    }),
  );
}

async function main(): Promise<void> {
  const sampler = $<HTMLSelectElement>("sampler");
  for (const name of SCHEDULER_NAMES) sampler.add(new Option(A1111_SAMPLER_NAMES[name], name));
  const outcome = await acquireDevice();
  if (outcome.device === null) {
    const notice = $("no-webgpu");
    notice.hidden = false;
    notice.innerHTML = "<strong>WebGPU is not available.</strong> ";
    notice.append(outcome.reason);
    for (const element of form.elements) (element as HTMLInputElement).disabled = true;
    stepStatus.textContent = "This page cannot run here: see the note above.";
    setState("no-webgpu");
    return;
  }
  $("adapter").textContent = `WebGPU: ${outcome.adapter}`;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void generate();
  });
  form.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      void generate();
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !cancelButton.disabled) cancelButton.click();
  });
  cancelButton.addEventListener("click", () => {
    cancelRequested = true;
    cancelButton.disabled = true;
    stepStatus.textContent = "Cancelling after this step…";
  });
  $("random-seed").addEventListener(
    "click",
    () => ($<HTMLInputElement>("seed").value = String(crypto.getRandomValues(new Uint32Array(1))[0])),
  );
  loraFiles.addEventListener("change", showLoraList);
  const urlInput = $<HTMLInputElement>("model-url");
  const loadFromUrl = () => loadModel(urlFolderSource(urlInput.value.trim(), showLoadProgress), modelName(urlInput.value.trim()));
  $("load-url").addEventListener("click", () => void loadFromUrl());
  urlInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      void loadFromUrl();
    }
  });
  $<HTMLInputElement>("model-dir").addEventListener("change", (event) => {
    const files = [...((event.target as HTMLInputElement).files ?? [])];
    if (files.length === 0) return;
    try {
      const source = localFolderSource(files, showLoadProgress);
      void loadModel(source, modelName(source.location));
    } catch (error) {
      modelStatus.textContent = error instanceof Error ? error.message : String(error);
    }
  });
  setState("idle");
  const requested = new URLSearchParams(location.search).get("model");
  if (requested !== null) urlInput.value = requested;
  await loadFromUrl();
}

void main();
