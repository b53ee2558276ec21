import { readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { readSafetensorsFile, type SafetensorsReader } from "../../packages/safetensors/mod_node.ts";
import { asManifest, type Manifest, parsePythonJson } from "./manifest.ts";

/** A manifest and the file it came from. */
export interface ManifestFile {
  path: string;
  manifest: Manifest;
}

/**
 * Every `*.json` manifest of a folder, in file-name order. JSON files that are not manifests (no
 * `kind` or `outputs`) are listed in `ignored`, files that do not parse in `broken`.
 */
export async function listManifests(
  folder: string,
): Promise<{ manifests: ManifestFile[]; ignored: string[]; broken: { name: string; reason: string }[] }> {
  const names = (await readdir(folder)).filter((name) => name.endsWith(".json")).sort();
  const manifests: ManifestFile[] = [];
  const ignored: string[] = [];
  const broken: { name: string; reason: string }[] = [];
  for (const name of names) {
    const path = join(folder, name);
    let json: unknown;
    try {
      json = parsePythonJson(await readFile(path, "utf8"));
    } catch (error) {
      broken.push({ name, reason: error instanceof Error ? error.message : String(error) });
      continue;
    }
    const manifest = asManifest(json, basename(name, ".json"));
    if (manifest) manifests.push({ path, manifest });
    else ignored.push(name);
  }
  return { manifests, ignored, broken };
}

/** Opens safetensors files of one folder on demand, each once, and closes them all. */
export class CaseFiles {
  readonly #folder: string;
  readonly #open = new Map<string, Promise<SafetensorsReader>>();

  constructor(folder: string) {
    this.#folder = folder;
  }

  open(fileName: string): Promise<SafetensorsReader> {
    let reader = this.#open.get(fileName);
    if (!reader) {
      reader = readSafetensorsFile(join(this.#folder, fileName));
      this.#open.set(fileName, reader);
    }
    return reader;
  }

  async close(): Promise<void> {
    const readers = [...this.#open.values()];
    this.#open.clear();
    for (const reader of readers) {
      try {
        await (await reader).close();
      } catch {
        // a file that failed to open has nothing to close
      }
    }
  }
}
