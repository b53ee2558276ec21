/**
 * A model folder on disk as a {@link ModelSource}.
 *
 * @module
 */

import { access, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readSafetensorsFile } from "@spo/safetensors/node";
import { isUrlString, type ModelSource, urlModelSource, type UrlModelSourceOptions } from "./model_source.ts";

/**
 * The files of a model folder on disk.
 *
 * @example
 * ```ts
 * const source = folderModelSource("/models/stable-diffusion-v1-5");
 * JSON.parse(await source.readText("unet/config.json"));
 * ```
 */
export function folderModelSource(folder: string | URL): ModelSource {
  const root = typeof folder === "string" ? folder : fileURLToPath(folder);
  return {
    location: root,
    async exists(path) {
      try {
        await access(join(root, path));
        return true;
      } catch {
        return false;
      }
    },
    readText: (path) => readFile(join(root, path), "utf8"),
    openSafetensors: (path) => readSafetensorsFile(join(root, path)),
  };
}

/** A source for a folder path, a `file:` URL, an `http(s):` URL, or a source as it is. */
export function modelSourceOf(source: ModelSource | string | URL, options: UrlModelSourceOptions = {}): ModelSource {
  if (source instanceof URL) return source.protocol === "file:" ? folderModelSource(source) : urlModelSource(source, options);
  if (typeof source === "string") return isUrlString(source) ? urlModelSource(source, options) : folderModelSource(source);
  return source;
}
