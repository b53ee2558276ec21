/**
 * A training run in a folder: the config, checkpoints (atomic), `metrics.jsonl` (one line per
 * update) with `metrics.svg`, validation PNGs per epoch and the final `lora.safetensors` (SPO's
 * published diffusers format). `resume: true` continues from the latest checkpoint and rewrites the
 * metrics file from it, so a killed run leaves no line of work that was lost.
 *
 * @module
 */

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { saveLora } from "@spo/lora";
import { tensorToRgba, toPng } from "@spo/pipeline/node";
import { serializeSafetensors } from "@spo/safetensors";
import { folderCheckpointStore, writeFileAtomic } from "../checkpoint/folder_store_node.ts";
import { metricsChartSvg } from "../metrics/metrics_chart.ts";
import { metricsLine } from "../metrics/update_metrics.ts";
import { SpoTrainer, type SpoTrainerModels, type SpoTrainerOptions } from "./spo_trainer.ts";
import type { SpoTrainConfig } from "./train_config.ts";

export interface RunFolderOptions extends Omit<SpoTrainerOptions, "store"> {
  runDir: string;
  /** Stop after this many iterations (the run can be resumed). */
  maxIterations?: number;
  signal?: AbortSignal;
}

/**
 * Trains in `runDir` and returns the trainer (its LoRA still attached to the UNet).
 *
 * @example
 * ```ts
 * const trainer = await trainInRunFolder(models, { epochs: 10 }, { runDir: "runs/spo", prompts, resume: true });
 * ```
 */
export async function trainInRunFolder(
  models: SpoTrainerModels,
  config: Partial<SpoTrainConfig>,
  options: RunFolderOptions,
): Promise<SpoTrainer> {
  const { runDir } = options;
  await mkdir(runDir, { recursive: true });
  const metricsPath = join(runDir, "metrics.jsonl");
  const chartPath = join(runDir, "metrics.svg");
  const trainer = await SpoTrainer.create(models, config, {
    ...options,
    store: folderCheckpointStore(runDir),
    onMetrics: async (metrics, all) => {
      await writeFile(metricsPath, metricsLine(metrics), { flag: "a" });
      await writeFile(chartPath, metricsChartSvg(all, { title: `${trainer.config.method} ${runDir}` }));
      await options.onMetrics?.(metrics, all);
    },
    onValidation: async (event) => {
      if (event.images.shape[1] === 3) {
        await mkdir(join(runDir, "validation"), { recursive: true });
        const images = await tensorToRgba(event.images);
        for (const [i, image] of images.entries())
          await writeFile(join(runDir, "validation", `epoch-${String(event.epoch).padStart(3, "0")}-${i}.png`), toPng(image));
      }
      await options.onValidation?.(event);
    },
  });
  // the metrics file restarts from what the checkpoint holds (updates after it were lost with the process)
  await writeFileAtomic(metricsPath, trainer.metrics.map(metricsLine).join(""));
  await writeFileAtomic(join(runDir, "config.json"), `${JSON.stringify(trainer.config, null, 2)}\n`);
  await trainer.run({ signal: options.signal, maxIterations: options.maxIterations });
  if (trainer.isDone) {
    const lora = await saveLora(trainer.adapter, "diffusers");
    await writeFileAtomic(join(runDir, "lora.safetensors"), serializeSafetensors(lora.tensors, lora.metadata));
  }
  return trainer;
}
