import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadDefaultClipTokenizer } from "@spo/clip/node";
import { StepPreferenceScorer, type StepPreferenceModel } from "@spo/step-preference-model";
import { loadStepPreferenceModel } from "@spo/step-preference-model/node";
import type { Device } from "@spo/wgpu-tensor";
import type { ToySpmKind } from "./toy_spm_config.ts";

/** The shipped toy preference models: `assets/spm/step_aware/` and `assets/spm/step_agnostic/`. */
export const TOY_SPM_URL: URL = new URL("../assets/spm/", import.meta.url);

const FOLDERS: Record<ToySpmKind, string> = { "step-aware": "step_aware", "step-agnostic": "step_agnostic" };

/** Options of `loadToySpm`. */
export interface LoadToySpmOptions {
  device?: Device;
  /** The folder holding `step_aware/` and `step_agnostic/` (default: the shipped ones). */
  folder?: string | URL;
}

/** One of the toy preference models as a model (for training or evaluation). */
export async function loadToySpmModel(kind: ToySpmKind = "step-aware", options: LoadToySpmOptions = {}): Promise<StepPreferenceModel> {
  if (!(kind in FOLDERS))
    throw new TypeError(`Cannot load a toy preference model of kind ${JSON.stringify(kind)}: expected "step-aware" or "step-agnostic"`);
  const root = options.folder ?? TOY_SPM_URL;
  const folder = join(typeof root === "string" ? root : fileURLToPath(root), FOLDERS[kind]);
  let text: string;
  try {
    text = await readFile(join(folder, "config.json"), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    throw new Error(
      `Cannot load the toy ${kind} preference model: ${folder} has no config.json (train one with \`npm run toyworld:train-spm\`, or pass the folder holding ${FOLDERS[kind]}/)`,
      { cause: error },
    );
  }
  const config = JSON.parse(text) as Record<string, unknown>;
  return await loadStepPreferenceModel(folder, { device: options.device, config, isTimeConditioned: config.is_time_conditioned !== false });
}

/**
 * A shipped toy preference model as a scorer for the SPO trainer: the step-aware one (SPO's SPM) or
 * the step-agnostic one (the ablation's), with CLIP's tokenizer.
 *
 * @example
 * ```ts
 * const scorer = await loadToySpm("step-aware", { device });
 * const trainer = await SpoTrainer.create({ unet, scheduler, promptEncoder, scorer }, config, { prompts });
 * ```
 */
export async function loadToySpm(kind: ToySpmKind = "step-aware", options: LoadToySpmOptions = {}): Promise<StepPreferenceScorer> {
  const model = await loadToySpmModel(kind, options);
  return new StepPreferenceScorer(model, await loadDefaultClipTokenizer(), { chunkSize: 64 });
}
