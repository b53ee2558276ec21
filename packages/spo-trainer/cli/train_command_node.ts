/**
 * `spo train`: loads a diffusers Stable Diffusion folder (or URL), the prompts and the scorer,
 * and trains a LoRA in a run folder with a progress bar and ETA on stderr. `--resume <run>`
 * continues from the run's latest checkpoint with the command it was started with.
 *
 * @module
 */

import { readFile, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DDIMScheduler } from "@spo/diffusion-unet";
import { loadStableDiffusionPipeline } from "@spo/pipeline/node";
import { readSafetensorsFile } from "@spo/safetensors/node";
import { toFloat32Array } from "@spo/safetensors";
import { loadSpmTokenizer, loadStepPreferenceModel, StepPreferenceScorer } from "@spo/step-preference-model/node";
import { Device, mean, noGrad, type Tensor } from "@spo/wgpu-tensor";
import { clipPromptEncoder, vaeDecoder } from "../conditioning/sd_components.ts";
import type { StepScorer, ScoreFunction } from "../scoring/step_scorer.ts";
import type { PreferencePair } from "../training/diffusion_dpo_step.ts";
import { trainInRunFolder } from "../training/run_folder_node.ts";
import type { TrainingProgressEvent } from "../training/spo_trainer.ts";
import { parsePromptFile } from "./prompt_file.ts";
import { toTrainCommand, type TrainCommand, trainOptionSpecs, trainUsage, TrainUsageError } from "./train_args.ts";

/** `label [####----] 3/10 2.1 s/it ETA 0:14`. */
export function progressWithEta(label: string, done: number, total: number, elapsedSeconds: number, width = 30): string {
  const filled = total > 0 ? Math.min(width, Math.round((done / total) * width)) : width;
  const rate = done > 0 ? elapsedSeconds / done : 0;
  const eta = done > 0 ? formatDuration(rate * (total - done)) : "?";
  return `${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${total}${done > 0 ? ` ${rate.toFixed(2)} s/it` : ""} ETA ${eta}`;
}

function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

/** A demo scorer: 10 × the mean pixel value (prefers brighter images). */
export const brightnessScorer: ScoreFunction = async (images: Tensor) => {
  const m = noGrad(() =>
    mean(
      images,
      images.shape.slice(1).map((_, i) => i + 1),
    ),
  );
  const values = await m.toArray();
  m.dispose();
  return Float32Array.from(values, (v) => 10 * v);
};

async function loadScorer(spec: string): Promise<StepScorer | ScoreFunction> {
  if (spec === "brightness") return brightnessScorer;
  const model = await loadStepPreferenceModel(spec);
  return new StepPreferenceScorer(model, await loadSpmTokenizer());
}

async function loadPairs(path: string): Promise<{ pairs: PreferencePair[]; latentShape: number[] }> {
  await using reader = await readSafetensorsFile(path);
  const tensors = await reader.readAll();
  const winner = tensors.get("winner");
  const loser = tensors.get("loser");
  if (!winner || !loser) throw new TrainUsageError(`${path}: expected tensors "winner" and "loser" [N, C, H, W]`);
  const captions = JSON.parse(reader.metadata.captions ?? "null");
  const n = winner.shape[0];
  if (!Array.isArray(captions) || captions.length !== n || winner.shape.join() !== loser.shape.join()) {
    throw new TrainUsageError(
      `${path}: winner [${winner.shape}] and loser [${loser.shape}] must match and metadata "captions" must be a JSON list of ${n} strings`,
    );
  }
  const w = toFloat32Array(winner);
  const l = toFloat32Array(loser);
  const size = w.length / n;
  return {
    pairs: captions.map((caption: string, i: number) => ({
      prompt: String(caption),
      winner: w.slice(i * size, (i + 1) * size),
      loser: l.slice(i * size, (i + 1) * size),
    })),
    latentShape: winner.shape.slice(1),
  };
}

/** Runs `spo train` with the arguments after `train`; returns the exit code. */
export async function runTrainCommand(
  args: readonly string[],
  io: { out: (text: string) => void; err: (text: string) => void; isTty?: boolean } = {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    isTty: process.stderr.isTTY === true,
  },
): Promise<number> {
  let command: TrainCommand;
  let resume = false;
  try {
    const { values } = parseArgs({ args: [...args], options: trainOptionSpecs(), allowPositionals: false, strict: true });
    if (values.help) {
      io.out(trainUsage());
      return 0;
    }
    if (typeof values.resume === "string") {
      const saved = JSON.parse(
        await readFile(join(values.resume, "command.json"), "utf8").catch(() => {
          throw new TrainUsageError(`${values.resume} is no run folder (it has no command.json)`);
        }),
      ) as TrainCommand;
      command = { ...saved, out: values.resume };
      resume = true;
    } else {
      const file = typeof values.config === "string" ? JSON.parse(await readFile(values.config, "utf8")) : undefined;
      command = toTrainCommand(file, values as Record<string, string | boolean | undefined>);
    }
  } catch (error) {
    io.err(`spo train: ${(error as Error).message}\n\n${trainUsage()}`);
    return 2;
  }

  const device = await Device.create();
  Device.setDefault(device);
  try {
    const prompts = command.prompts ? parsePromptFile(await readFile(command.prompts, "utf8"), command.prompts) : undefined;
    const offline = command.pairs ? await loadPairs(command.pairs) : undefined;
    const scorer = command.scorer ? await loadScorer(command.scorer) : undefined;
    io.err(`loading ${command.model}…\n`);
    const pipe = await loadStableDiffusionPipeline(command.model, { onProgress: (part) => io.err(`loading ${part}…\n`) });
    const { unet, vae, textEncoder, tokenizer, schedulerConfig } = pipe.components;
    const scheduler = DDIMScheduler.fromConfig({ ...schedulerConfig, clip_sample: false });
    await mkdir(command.out, { recursive: true });
    if (!resume) await writeFile(join(command.out, "command.json"), `${JSON.stringify(command, null, 2)}\n`);
    const latentShape = offline?.latentShape ??
      command.settings.latentShape ?? [unet.config.inChannels, unet.config.sampleSize, unet.config.sampleSize];
    const start = performance.now();
    let startIteration = -1;
    const onProgress = (e: TrainingProgressEvent) => {
      if (startIteration < 0) startIteration = e.iteration;
      const label = e.phase === "sample" ? `epoch ${e.epoch + 1} sampling ${e.step! + 1}/${e.steps}` : `epoch ${e.epoch + 1} ${e.phase}`;
      const line = progressWithEta(
        label.padEnd(26),
        e.iteration,
        e.totalIterations,
        ((performance.now() - start) / 1000) * (e.iteration / Math.max(e.iteration - startIteration, 1)),
      );
      io.err(io.isTty ? `\r${line}` : e.phase === "sample" ? "" : `${line}\n`);
    };
    const trainer = await trainInRunFolder(
      { unet, scheduler, promptEncoder: clipPromptEncoder(textEncoder, tokenizer), scorer, decode: vae ? vaeDecoder(vae) : undefined },
      { ...command.settings, latentShape },
      {
        runDir: command.out,
        prompts,
        pairs: offline?.pairs,
        resume,
        onProgress,
        onMetrics: (m) => {
          if (!io.isTty)
            io.err(
              `update ${m.update}: loss ${m.loss.toFixed(4)}, clamped ${(100 * m.clampedFraction).toFixed(0)}%, pairs ${m.pairsKept}/${m.pairsOffered}\n`,
            );
        },
        onCheckpoint: ({ location }) => io.err(`${io.isTty ? "\n" : ""}checkpoint ${location}\n`),
      },
    );
    if (io.isTty) io.err("\n");
    io.err(`done: ${trainer.progress.update} updates; LoRA in ${join(command.out, "lora.safetensors")}\n`);
    trainer.dispose();
    pipe.dispose();
    return 0;
  } catch (error) {
    const name = (error as Error).name;
    if (
      [
        "TrainUsageError",
        "PromptFileError",
        "ModelFolderError",
        "TrainingDivergedError",
        "CheckpointError",
        "TrainConfigError",
        "RangeError",
        "SafetensorsError",
      ].includes(name)
    ) {
      io.err(`spo train: ${(error as Error).message}\n`);
      return 1;
    }
    throw error;
  } finally {
    device.destroy();
  }
}
