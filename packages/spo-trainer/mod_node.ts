/**
 * The Node-only part of @spo/trainer: everything of `mod.ts` plus run folders on disk (atomic
 * checkpoints, metrics files, validation PNGs, the final LoRA) and the `spo` command line.
 *
 * @example
 * ```ts
 * import { trainInRunFolder } from "@spo/trainer/node";
 * await trainInRunFolder(models, { epochs: 10 }, { runDir: "runs/spo", prompts, resume: true });
 * ```
 * @module
 */
export * from "./mod.ts";
export { folderCheckpointStore, writeFileAtomic } from "./checkpoint/folder_store_node.ts";
export { type RunFolderOptions, trainInRunFolder } from "./training/run_folder_node.ts";
export { brightnessScorer, progressWithEta, runTrainCommand } from "./cli/train_command_node.ts";
export { parsePromptFile, PromptFileError } from "./cli/prompt_file.ts";
export { SETTING_FLAGS, type TrainCommand, toTrainCommand, trainUsage, TrainUsageError } from "./cli/train_args.ts";
export { main as runSpoCommand } from "./cli/spo_node.ts";
