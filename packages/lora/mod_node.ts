/**
 * The Node-only part of @spo/lora: everything of `mod.ts` plus files on disk — reading and
 * writing LoRA files (with PEFT's adapter_config.json), converting between formats
 * (`spo lora convert`) and merging LoRAs into checkpoint files (`spo lora merge`).
 *
 * @example
 * ```ts
 * import { convertLora } from "@spo/lora/node";
 * await convertLora("spo_lora_diffusers.safetensors", "spo_lora_kohya.safetensors", { to: "kohya" });
 * ```
 * @module
 */
export * from "./mod.ts";
export { applyLoraFiles, type LoraFile, type LoraFileSpec, readLoraFile, writeLoraFile } from "./node/lora_files_node.ts";
export { convertLora, type ConvertLoraOptions } from "./node/convert_lora_node.ts";
export { type LoraToMerge, mergeLoraIntoCheckpoint, type MergeLoraOptions } from "./node/merge_checkpoint_node.ts";
export { LORA_USAGE, runLoraCommand } from "./node/lora_command_node.ts";
