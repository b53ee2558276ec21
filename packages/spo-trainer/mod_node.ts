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
