import { loadTensorInto, type Module, type Tensor } from "@spo/wgpu-tensor";
import { LoraAdapter } from "../adapter/lora_adapter.ts";
import { type LoraComponent, type LoraModels, modelsByComponent } from "../formats/components.ts";
import { loraEntries, type LoraTensors } from "../formats/host_lora.ts";
import { LayerTable } from "../formats/layer_table.ts";
import { LoraLoadError, type LoraLoadReport } from "../formats/load_report.ts";
import { type LoraEntry, planLora, type PlannedLoraModule } from "../formats/lora_plan.ts";
import { type PeftAdapterConfig, peftAlphaOf } from "../formats/peft_config.ts";

export interface LoadLoraOptions {
  /** Adapter name. Default "default". */
  name?: string;
  /** Multiplier of every component. Default 1. */
  weight?: number;
  /** Per-component multipliers (A1111 `<lora:name:te:unet>`), overriding `weight`. */
  weights?: Partial<Record<LoraComponent, number>>;
  /** Throw (before attaching anything) if any key of the file is unmatched. Default false. */
  strict?: boolean;
  /** The component a single model stands for, and of keys that name none. Default "unet". */
  component?: LoraComponent;
  /** Network alpha for modules whose file gives none (scale alpha/rank); default: scale 1. */
  alpha?: number;
  /** PEFT adapter_config.json: lora_alpha / alpha_pattern / rsLoRA give the scales. */
  peftConfig?: PeftAdapterConfig;
  /** Let the loaded LoRA train (A and B take gradients). Default false. */
  trainable?: boolean;
  /**
   * Load the keys that fit even when others show the file was made for another architecture
   * (layers of other shapes, SDXL's te1/te2 text encoders); those are reported unmatched. Default
   * false: such a LoRA is refused, as applying part of it would change the model in a way its
   * author never trained.
   */
  allowForeignKeys?: boolean;
}

/** A loaded LoRA and what the load matched. */
export interface LoadedLora {
  adapter: LoraAdapter;
  report: LoraLoadReport;
}

/**
 * Loads a LoRA file's tensors (any of the diffusers, diffusers-PEFT, PEFT and kohya namings,
 * detected per key) into a new adapter on the model(s). Every key is accounted for in the
 * report: matched, or unmatched with its reason. Throws LoraLoadError when nothing matched (a
 * LoRA that would silently change nothing), when keys show the file was made for another
 * architecture (layers of other shapes, SDXL's te1/te2; see `allowForeignKeys`) and, with
 * `strict`, when anything did not match.
 *
 * @example
 * ```ts
 * const { adapter, report } = loadLora(unet, parseSafetensors(bytes).tensors, { name: "spo" });
 * console.log(describeLoraReport(report)); // format diffusers: 256 of 256 tensors matched 128 modules (unet 128), 797184 parameters
 * ```
 */
export function loadLora(models: LoraModels, tensors: LoraTensors, options: LoadLoraOptions = {}): LoadedLora {
  const byComponent = modelsByComponent(models, options.component);
  const { modules, report } = planFor(byComponent, loraEntries(tensors), options);
  const adapter = new LoraAdapter({ name: options.name, weight: options.weight });
  for (const [component, weight] of Object.entries(options.weights ?? {})) {
    if (weight !== undefined) adapter.setComponentWeight(component as LoraComponent, weight);
  }
  try {
    for (const m of modules) attachPlanned(adapter, m, options.trainable ?? false);
  } catch (error) {
    adapter.remove();
    throw error;
  }
  return { adapter, report };
}

/**
 * The match report for a LoRA layout (key → shape) against the model(s), without any values:
 * checks a file's names and shapes on a shape-only model (`init: "meta"`). Alpha values are not
 * read. Never throws for unmatched keys.
 *
 * @example
 * ```ts
 * checkLoraLayout(unet, loraLayout(adapter, "kohya")).unmatched.length; // 0
 * ```
 */
export function checkLoraLayout(
  models: LoraModels,
  layout: ReadonlyMap<string, readonly number[]>,
  options: Pick<LoadLoraOptions, "component"> = {},
): LoraLoadReport {
  const byComponent = modelsByComponent(models, options.component);
  const entries = new Map<string, LoraEntry>([...layout].map(([key, shape]) => [key, { shape }]));
  const table = LayerTable.fromModels(byComponent);
  return planLora(entries, table, { defaultComponent: options.component }).report;
}

function planFor(byComponent: Map<LoraComponent, Module>, entries: Map<string, LoraEntry>, options: LoadLoraOptions) {
  const table = LayerTable.fromModels(byComponent);
  const fromConfig = options.peftConfig ? peftAlphaOf(options.peftConfig) : null;
  const planned = planLora(entries, table, {
    defaultComponent: options.component,
    alphaOf: (component, path, rank) => fromConfig?.(component, path, rank) ?? options.alpha ?? null,
  });
  const { report } = planned;
  const isForeign = report.unmatched.some((u) => u.reason === "shape mismatch" || u.reason === "another architecture");
  if (isForeign && !(options.allowForeignKeys ?? false))
    throw new LoraLoadError(report, "Cannot load a LoRA made for another architecture");
  if (report.matchedModules === 0) throw new LoraLoadError(report, "Cannot load LoRA: nothing matched");
  if ((options.strict ?? false) && report.unmatched.length > 0) throw new LoraLoadError(report, "Cannot load LoRA strictly");
  return planned;
}

function attachPlanned(adapter: LoraAdapter, m: PlannedLoraModule, trainable: boolean): void {
  const base = m.layer.layer;
  if (!base) throw new Error(`Cannot attach a LoRA to "${m.path}": the module table holds no live layer`);
  const layer = adapter.addLayer(m.component, m.path, base, { rank: m.rank, alpha: m.alpha, init: "meta", requiresGrad: trainable });
  const fill = (target: Tensor, values: Float32Array | undefined, key: string) => {
    if (!values) throw new Error(`Cannot load "${key}": no values were read`);
    loadTensorInto(target, { shape: target.shape, data: values });
  };
  fill(layer.lora_A.weight, m.down.values, m.down.key);
  fill(layer.lora_B.weight, m.up.values, m.up.key);
}
