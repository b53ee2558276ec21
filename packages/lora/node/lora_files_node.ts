import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { SafeTensorMap } from "@spo/safetensors";
import { readSafetensorsFile, writeSafetensorsFile } from "@spo/safetensors/node";
import type { LoraModels } from "../formats/components.ts";
import { type PeftAdapterConfig, parsePeftConfig } from "../formats/peft_config.ts";
import type { FormattedLora } from "../formats/write_lora.ts";
import { type AppliedLoras, type ApplyLorasOptions, applyLoras, type LoraSpec } from "../loading/apply_loras.ts";

/** A LoRA file read from disk. */
export interface LoraFile {
  tensors: SafeTensorMap;
  metadata: Record<string, string>;
  /** adapter_config.json from the same folder, when there is one (PEFT's layout). */
  peftConfig: PeftAdapterConfig | null;
}

/**
 * Reads a LoRA safetensors file, and PEFT's adapter_config.json beside it when present.
 *
 * @example
 * ```ts
 * const { tensors, peftConfig } = await readLoraFile("./spo-sd-v1-5_4k-p_10ep_lora_diffusers.safetensors");
 * ```
 */
export async function readLoraFile(path: string): Promise<LoraFile> {
  await using reader = await readSafetensorsFile(path);
  const tensors = await reader.readAll();
  const configPath = join(dirname(path), "adapter_config.json");
  const peftConfig = existsSync(configPath) ? parsePeftConfig(JSON.parse(await readFile(configPath, "utf8"))) : null;
  return { tensors, metadata: reader.metadata, peftConfig };
}

/**
 * Writes a formatted LoRA: the safetensors file, and for PEFT its adapter_config.json in the
 * same folder.
 *
 * @example
 * ```ts
 * await writeLoraFile("./out/adapter_model.safetensors", await saveLora(adapter, "peft"));
 * ```
 */
export async function writeLoraFile(path: string, lora: FormattedLora): Promise<void> {
  await writeSafetensorsFile(path, lora.tensors, lora.metadata);
  if (lora.adapterConfig) await writeFile(join(dirname(path), "adapter_config.json"), `${JSON.stringify(lora.adapterConfig, null, 2)}\n`);
}

/** `applyLoras` with files: each spec names a `file` instead of tensors. */
export interface LoraFileSpec extends Omit<LoraSpec, "tensors" | "reader"> {
  file: string;
}

/**
 * Reads LoRA files and applies them with their weights (see `applyLoras`); PEFT configs beside
 * the files are used.
 *
 * @example
 * ```ts
 * const applied = await applyLoraFiles(unet, [{ name: "spo", file: "./spo.safetensors", weight: 0.7 }]);
 * applied.remove();
 * ```
 */
export async function applyLoraFiles(
  models: LoraModels,
  specs: readonly LoraFileSpec[],
  options: ApplyLorasOptions = {},
): Promise<AppliedLoras> {
  const loaded: LoraSpec[] = [];
  for (const spec of specs) {
    const { tensors, peftConfig } = await readLoraFile(spec.file);
    loaded.push({ ...spec, tensors, peftConfig: spec.peftConfig ?? peftConfig ?? undefined });
  }
  return await applyLoras(models, loaded, options);
}
