import type { SafetensorsReader } from "@spo/safetensors";
import type { LoraAdapter } from "../adapter/lora_adapter.ts";
import type { LoraComponent, LoraModels } from "../formats/components.ts";
import type { LoraTensors } from "../formats/host_lora.ts";
import type { LoraLoadReport } from "../formats/load_report.ts";
import type { PeftAdapterConfig } from "../formats/peft_config.ts";
import { loadLora } from "./load_lora.ts";

/** One LoRA to apply: its tensors (or a reader of its file), its name and its weight. */
export interface LoraSpec {
  /** Adapter name (A1111: the file stem of `<lora:name:weight>`). Must be unique per call. */
  name: string;
  tensors?: LoraTensors;
  /** A safetensors reader (file, URL or blob) to read all tensors from, when `tensors` is not given. */
  reader?: SafetensorsReader;
  /** Multiplier. Default 1. */
  weight?: number;
  /** Per-component multipliers (A1111 te/unet), overriding `weight`. */
  weights?: Partial<Record<LoraComponent, number>>;
  strict?: boolean;
  alpha?: number;
  peftConfig?: PeftAdapterConfig;
  /** See `LoadLoraOptions.allowForeignKeys`. */
  allowForeignKeys?: boolean;
}

/** LoRAs applied for a while (one generation): their adapters and reports, and the way back. */
export interface AppliedLoras {
  adapters: LoraAdapter[];
  reports: Map<string, LoraLoadReport>;
  /** Detaches (unmerging first) and frees every adapter of this call: the model as it was. */
  remove(): void;
}

export interface ApplyLorasOptions {
  /** The component a single model stands for. Default "unet". */
  component?: LoraComponent;
  /** Merge the weights into the base (A1111's default; no per-step cost) instead of running branches. */
  merge?: boolean;
}

/**
 * Loads several LoRAs with their weights onto the model(s), e.g. for the `<lora:name:weight>`
 * tags of one prompt, and hands back `remove()` to restore the model afterwards. All or
 * nothing: if one fails to load, those already applied are removed before the error is thrown.
 *
 * @example
 * ```ts
 * const applied = await applyLoras(unet, [{ name: "spo", tensors, weight: 0.8 }]);
 * try {
 *   // … generate …
 * } finally {
 *   applied.remove();
 * }
 * ```
 */
export async function applyLoras(models: LoraModels, specs: readonly LoraSpec[], options: ApplyLorasOptions = {}): Promise<AppliedLoras> {
  const names = specs.map((s) => s.name);
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate !== undefined) throw new RangeError(`Cannot apply LoRAs: the name "${duplicate}" appears twice`);
  const adapters: LoraAdapter[] = [];
  const reports = new Map<string, LoraLoadReport>();
  const remove = () => {
    for (const adapter of [...adapters].reverse()) adapter.remove();
  };
  try {
    for (const spec of specs) {
      const tensors = spec.tensors ?? (await readAll(spec));
      const { adapter, report } = loadLora(models, tensors, {
        name: spec.name,
        weight: spec.weight,
        weights: spec.weights,
        strict: spec.strict,
        alpha: spec.alpha,
        peftConfig: spec.peftConfig,
        allowForeignKeys: spec.allowForeignKeys,
        component: options.component,
      });
      adapters.push(adapter);
      reports.set(spec.name, report);
      if (options.merge) adapter.merge();
    }
  } catch (error) {
    remove();
    throw error;
  }
  return { adapters, reports, remove };
}

async function readAll(spec: LoraSpec): Promise<LoraTensors> {
  if (!spec.reader) throw new TypeError(`Cannot apply LoRA "${spec.name}": give its tensors or a reader`);
  return await spec.reader.readAll();
}
