import { Device } from "@spo/wgpu-tensor";
import { type LoraComponent, type LoraModels, modelsByComponent } from "../formats/components.ts";
import { loraEntries, plannedWeights } from "../formats/host_lora.ts";
import { LayerTable } from "../formats/layer_table.ts";
import { LoraLoadError, type LoraLoadReport } from "../formats/load_report.ts";
import { type LoraFormat, parseLoraKey } from "../formats/lora_keys.ts";
import { planLora } from "../formats/lora_plan.ts";
import { peftAlphaOf } from "../formats/peft_config.ts";
import { sd15LayerTable } from "../formats/sd15_table.ts";
import { formatLora } from "../formats/write_lora.ts";
import { existingDefaultDevice } from "./_default_device.ts";
import { readLoraFile, writeLoraFile } from "./lora_files_node.ts";

export interface ConvertLoraOptions {
  to: LoraFormat;
  /**
   * The models whose module names resolve kohya keys. Default: Stable Diffusion 1.5's table
   * (UNet built shape-only, text encoder by name). Not needed when the input is not kohya.
   */
  models?: LoraModels;
  /** The component of keys that name none (PEFT files). Default "unet". */
  component?: LoraComponent;
  /** Fail on any key that cannot be converted. Default true (a conversion should lose nothing). */
  strict?: boolean;
}

/**
 * Converts a LoRA file between the diffusers, diffusers-PEFT, PEFT and kohya formats (what
 * `spo lora convert` runs). Values are copied as float32; where the target has no alpha
 * (diffusers) the scale alpha/rank is folded into the up matrix, so ΔW is the same.
 *
 * @example
 * ```ts
 * const report = await convertLora("spo_lora_diffusers.safetensors", "spo_lora_kohya.safetensors", { to: "kohya" });
 * console.log(report.matchedTensors); // 256
 * ```
 */
export async function convertLora(inFile: string, outFile: string, options: ConvertLoraOptions): Promise<LoraLoadReport> {
  const { tensors, peftConfig } = await readLoraFile(inFile);
  const entries = loraEntries(tensors);
  const needsTable = [...entries.keys()].some((key) => {
    const parsed = parseLoraKey(key);
    return parsed.type === "lora" && "kohya" in parsed.module;
  });
  const table = needsTable ? await tableFor(options) : null;
  const { modules, report } = planLora(entries, table, {
    defaultComponent: options.component,
    alphaOf: peftConfig ? peftAlphaOf(peftConfig) : undefined,
  });
  if (report.matchedModules === 0) throw new LoraLoadError(report, `Cannot convert ${inFile}: nothing matched`);
  if ((options.strict ?? true) && report.unmatched.length > 0) throw new LoraLoadError(report, `Cannot convert ${inFile}`);
  await writeLoraFile(outFile, formatLora(plannedWeights(modules), options.to));
  return report;
}

async function tableFor(options: ConvertLoraOptions): Promise<LayerTable> {
  if (options.models) return LayerTable.fromModels(modelsByComponent(options.models, options.component));
  const existing = existingDefaultDevice();
  if (existing) return sd15LayerTable(existing);
  // no device yet: make one only to own the shape-only tensors (nothing is allocated on it)
  const device = await Device.create();
  try {
    return sd15LayerTable(device);
  } finally {
    device.destroy();
  }
}
