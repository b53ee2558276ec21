// The demo's folders: the output folder (created when new, refused when it holds anything unless
// --overwrite) and the model folder of --model.
import { access, mkdir, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { DemoUsageError } from "./demo_options.ts";

/** The demo's files, all in one folder. */
export const DEMO_FILES = {
  grid: "samples_before_after.png",
  chart: "training_curves.svg",
  summary: "summary.json",
  metrics: "metrics.jsonl",
  lora: "lora.safetensors",
} as const;

/**
 * Makes sure `folder` can take the demo's files. Returns the names already there (replaced only
 * with `isOverwriteAllowed`); throws `DemoUsageError` for a file in the way or a non-empty folder.
 */
export async function prepareOutputFolder(folder: string, isOverwriteAllowed: boolean): Promise<string[]> {
  const info = await stat(folder).catch(() => null);
  if (info && !info.isDirectory()) throw new DemoUsageError(`Cannot write the demo's output to ${folder}: it is a file, not a folder`);
  const existing = info ? await readdir(folder) : [];
  if (existing.length > 0 && !isOverwriteAllowed) {
    throw new DemoUsageError(
      `Cannot write the demo's output to ${folder}: the folder is not empty (${existing.length} entries); ` +
        "pass --overwrite to replace the demo's files there, or --out <new folder>",
    );
  }
  await mkdir(folder, { recursive: true });
  const ours = new Set<string>(Object.values(DEMO_FILES));
  return existing.filter((name) => ours.has(name));
}

/** Throws `DemoUsageError` unless `folder` looks like a diffusers model folder (it has model_index.json). */
export async function checkModelFolder(folder: string): Promise<void> {
  await access(join(folder, "model_index.json")).catch(() => {
    throw new DemoUsageError(`--model ${folder}: no model_index.json there; expected a toy model folder in diffusers layout`);
  });
}
