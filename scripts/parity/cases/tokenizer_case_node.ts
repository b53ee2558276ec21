/**
 * Loads the tokenizer a `tokenizer` oracle manifest names (`config.vocab_file`, `config.merges_file`,
 * paths relative to the folder that holds `shared/`), falling back to the vocabulary shipped with
 * this package when those files are not on this machine.
 *
 * @module
 */

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { CLIPTokenizer, loadDefaultClipTokenizer } from "../../../packages/clip/mod_node.ts";
import type { TokenizerParityManifest } from "./tokenizer_case.ts";

/** `path` as given when absolute, else below the first ancestor of `folder` that has it. */
function findUpwards(path: string, folder: string): string | null {
  if (isAbsolute(path)) return existsSync(path) ? path : null;
  let current = resolve(folder);
  while (true) {
    const candidate = join(current, path);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(current);
    if (parent === current) return null;
    current = parent;
  }
}

/**
 * The tokenizer for a `tokenizer` manifest: its `vocab_file` and `merges_file` resolved upwards from
 * `folder` (the manifest's folder; e.g. `shared/tokenizers/clip/vocab.json` from
 * `shared/fixtures/oracle/`), else the package's own copy of the same CLIP vocabulary.
 *
 * @example
 * ```ts
 * const tokenizer = await loadTokenizerForManifest(manifest, { folder: "shared/fixtures/oracle" });
 * const results = tokenizerParityCase(manifest, tokenizer);
 * ```
 */
export async function loadTokenizerForManifest(
  manifest: Pick<TokenizerParityManifest, "config">,
  options: { folder?: string } = {},
): Promise<CLIPTokenizer> {
  const folder = options.folder ?? ".";
  const maxLength = manifest.config.model_max_length;
  const vocabPath = manifest.config.vocab_file === undefined ? null : findUpwards(manifest.config.vocab_file, folder);
  const mergesPath = manifest.config.merges_file === undefined ? null : findUpwards(manifest.config.merges_file, folder);
  if (vocabPath === null || mergesPath === null) return await loadDefaultClipTokenizer({ modelMaxLength: maxLength });
  const [vocabJson, mergesTxt] = await Promise.all([readFile(vocabPath, "utf8"), readFile(mergesPath, "utf8")]);
  return CLIPTokenizer.fromStrings(vocabJson, mergesTxt, { modelMaxLength: maxLength });
}
