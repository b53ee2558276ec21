import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { writeSafetensorsFile } from "@spo/safetensors/node";
import type { StepPreferenceModel } from "@spo/step-preference-model";
import { hostStateDict } from "../model/save_model_node.ts";
import { TOY_SPM_CONFIG } from "./toy_spm_config.ts";

/**
 * Writes a toy preference model as a transformers-style folder: `config.json` (the CLIPConfig, with
 * `is_time_conditioned` saying which of the two it is) and `model.safetensors` in the model's own
 * parameter names (f16: most of the bytes are the 49,408-row token table).
 */
export async function saveToySpmFolder(folder: string, model: StepPreferenceModel, metadata: Record<string, string> = {}): Promise<void> {
  await mkdir(folder, { recursive: true });
  const config = { ...TOY_SPM_CONFIG, is_time_conditioned: model.isTimeConditioned };
  await writeFile(join(folder, "config.json"), `${JSON.stringify(config, null, 2)}\n`);
  await writeSafetensorsFile(join(folder, "model.safetensors"), await hostStateDict(model, "F16"), { format: "pt", ...metadata });
}
