/**
 * Resolving `<lora:name:…>` tags to files in a folder, like the webui's `models/Lora`.
 *
 * @module
 */

import { readdir } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import { readSafetensorsFile } from "@spo/safetensors/node";
import type { LoraResolver } from "./prompt_loras.ts";

/**
 * A resolver that finds `<name>.safetensors` anywhere under `folder` (subfolders included; the
 * file stem is the tag name, compared exactly).
 *
 * @example
 * ```ts
 * const { images } = await pipe.generate({ prompt: "<lora:spo:0.8> a cat", loras: loraFolderResolver("./loras") });
 * ```
 */
export function loraFolderResolver(folder: string): LoraResolver {
  let files: Promise<Map<string, string>> | undefined;
  const index = async () => {
    const entries = await readdir(folder, { recursive: true });
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
    return path === undefined ? null : { reader: await readSafetensorsFile(path) };
  };
}
