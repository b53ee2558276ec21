/**
 * Checkpoints in a run folder on disk, written so that a crash at any moment leaves the latest
 * complete checkpoint readable: each checkpoint's files go into a temporary folder (each file
 * fsync'ed), the folder is renamed into place, and only then `latest.json` is replaced by a
 * temporary file renamed over it.
 *
 * Layout: `<run>/checkpoints/checkpoint-000012/{lora.safetensors, training_state.safetensors,
 * state.json}` and `<run>/checkpoints/latest.json` (`{"name": "checkpoint-000012"}`).
 *
 * @module
 */

import { mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { CheckpointError, type CheckpointFiles, type CheckpointStore } from "./training_checkpoint.ts";

/** Writes `bytes` to `path` atomically: a temporary file in the same folder, fsync, rename. */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const temp = `${path}.tmp-${process.pid}`;
  const handle = await open(temp, "w");
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
}

/**
 * A `CheckpointStore` in `<runDir>/checkpoints`.
 *
 * @example
 * ```ts
 * const trainer = await SpoTrainer.create(models, config, { prompts, store: folderCheckpointStore("runs/a"), resume: true });
 * ```
 */
export function folderCheckpointStore(runDir: string): CheckpointStore {
  const root = join(runDir, "checkpoints");
  return {
    async save(name, files) {
      if (!/^[\w.-]+$/.test(name))
        throw new CheckpointError(`Cannot save a checkpoint named ${JSON.stringify(name)}: use letters, digits, '.', '-', '_'`);
      await mkdir(root, { recursive: true });
      const temp = join(root, `.${name}.tmp-${process.pid}`);
      await rm(temp, { recursive: true, force: true });
      await mkdir(temp);
      for (const [file, bytes] of files) {
        const handle = await open(join(temp, file), "w");
        try {
          await handle.writeFile(bytes);
          await handle.sync();
        } finally {
          await handle.close();
        }
      }
      const final = join(root, name);
      // a folder of that name can only be left over from a run killed before it updated latest.json
      await rm(final, { recursive: true, force: true });
      await rename(temp, final);
      await writeFileAtomic(join(root, "latest.json"), `${JSON.stringify({ name })}\n`);
      return final;
    },
    async latest() {
      let pointer: { name?: unknown };
      try {
        pointer = JSON.parse(await readFile(join(root, "latest.json"), "utf8"));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw new CheckpointError(`Cannot read ${join(root, "latest.json")}: ${(error as Error).message}`);
      }
      if (typeof pointer.name !== "string") throw new CheckpointError(`Cannot read ${join(root, "latest.json")}: it names no checkpoint`);
      const folder = join(root, pointer.name);
      const files: CheckpointFiles = new Map();
      for (const file of await readdir(folder)) files.set(file, new Uint8Array(await readFile(join(folder, file))));
      return { name: pointer.name, files };
    },
  };
}
