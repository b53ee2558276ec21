/**
 * LoRA adapters for @spo/wgpu-tensor models, in every format people share: inject trainable
 * low-rank branches into any Linear/Conv2d by PEFT `target_modules` names, stack several named
 * adapters with weights, switch them off (SPO's frozen reference model), merge and unmerge them,
 * and load or save the diffusers (SPO's published files), diffusers-PEFT, PEFT and kohya/A1111
 * formats with a report of what matched.
 *
 * @example
 * ```ts
 * import { injectLora, withAdaptersDisabled } from "@spo/lora";
 * const adapter = injectLora(unet, { rank: 4, targetModules: ["to_q", "to_k", "to_v", "to_out.0"], init: "gaussian" });
 * const policy = unet.forward(x, t, context);
 * const reference = withAdaptersDisabled(unet, () => unet.forward(x, t, context));
 * ```
 * @module
 */
export { type LoraAdapterOptions, LoraAdapter } from "./adapter/lora_adapter.ts";
export { injectLora, type LoraConfig, loraParameters } from "./adapter/inject_lora.ts";
export { findTargetLayers, matchesTarget, type TargetModules } from "./adapter/target_modules.ts";
export { disableAdapters, enableAdapters, loraAdaptersOf, setAdapters, withAdaptersDisabled } from "./adapter/switching.ts";
export { type AdaptableLayer, type LoraInit, LoraLayer, type LoraLayerOptions, type LoraOwner } from "./layer/lora_layer.ts";
export { KOHYA_PREFIXES, LORA_COMPONENTS, type LoraComponent, type LoraModels, modelsByComponent } from "./formats/components.ts";
export {
  LORA_FORMATS,
  type LoraFormat,
  type LoraRole,
  namesTwoTextEncoders,
  type ParsedLoraKey,
  parseLoraKey,
} from "./formats/lora_keys.ts";
export { type LayerInfo, LayerTable, sd15TextEncoderLayerPaths } from "./formats/layer_table.ts";
export { sd15LayerTable } from "./formats/sd15_table.ts";
export { describeLoraReport, LoraLoadError, type LoraLoadReport, type UnmatchedKey, type UnmatchedReason } from "./formats/load_report.ts";
export { type LoraEntry, planLora, type PlannedLoraModule, type PlannedTensor, type PlanOptions } from "./formats/lora_plan.ts";
export { hostDeltaWeight, loraEntries, type LoraTensorInput, type LoraTensors, plannedWeights } from "./formats/host_lora.ts";
export { type PeftAdapterConfig, peftAlphaOf, parsePeftConfig, targetModuleNames } from "./formats/peft_config.ts";
export { type FormatOptions, type FormattedLora, formatLora, type HostMatrix, type LoraModuleWeights } from "./formats/write_lora.ts";
export { checkLoraLayout, type LoadedLora, loadLora, type LoadLoraOptions } from "./loading/load_lora.ts";
export { loraLayout, loraModuleWeights, saveLora } from "./loading/save_lora.ts";
export { type AppliedLoras, applyLoras, type ApplyLorasOptions, type LoraSpec } from "./loading/apply_loras.ts";
