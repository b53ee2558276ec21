/**
 * Resolving `<lora:name:…>` tags to files in a folder, like the webui's `models/Lora`.
 *
 * @module
 */

import { readdir } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import { readSafetensorsFile } from "@spo/safetensors/node";
import { LoraFileError, type LoraResolver } from "./prompt_loras.ts";

/**
 * A resolver that finds `<name>.safetensors` anywhere under `folder` (subfolders included; the
 * file stem is the tag name, compared exactly). A missing folder or a file that is not valid
 * safetensors throws {@link LoraFileError} naming it.
 *
 * @example
 * ```ts
 * const { images } = await pipe.generate({ prompt: "<lora:spo:0.8> a cat", loras: loraFolderResolver("./loras") });
 * ```
 */
export function loraFolderResolver(folder: string): LoraResolver {
  let files: Promise<Map<string, string>> | undefined;
  const index = async () => {
    let entries: string[];
    try {
      entries = await readdir(folder, { recursive: true });
    } catch (cause) {
      const reason = (cause as { code?: string }).code === "ENOENT" ? "the folder does not exist" : (cause as Error).message;
      throw new LoraFileError(`Cannot look for LoRAs in "${folder}": ${reason}`, { cause });
    }
    const byStem = new Map<string, string>();
    for (const entry of entries.sort()) {
      if (extname(entry).toLowerCase() !== ".safetensors") continue;
      const stem = basename(entry, extname(entry));
      if (!byStem.has(stem)) byStem.set(stem, join(folder, entry));
    }
    return byStem;
  };
  return async (name) => {
    files ??= index();
    const path = (await files).get(name);
    if (path === undefined) return null;
    try {
      return { reader: await readSafetensorsFile(path) };
    } catch (cause) {
      throw new LoraFileError(`Cannot read LoRA "${name}" (${path}): ${(cause as Error).message}`, { cause });
    }
  };
}
