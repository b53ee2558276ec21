/**
 * Node helpers to load a `CLIPTokenizer` from disk: a diffusers model folder, a tokenizer folder,
 * openai/CLIP's gzip'd BPE file, or the vocabulary shipped with this package.
 *
 * @module
 */

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CLIPTokenizer as BaseCLIPTokenizer, type CLIPTokenizerOptions } from "./clip_tokenizer.ts";
import { TokenizerFileError } from "./vocab.ts";

/** The folder of the CLIP vocabulary shipped with this package (`assets/clip/`: vocab.json, merges.txt). */
export const DEFAULT_CLIP_ASSETS_URL: URL = new URL("../assets/clip/", import.meta.url);

/** The folder holding `vocab.json`: `folder` itself or its `tokenizer/` subfolder (diffusers layout). */
function tokenizerFolder(folder: string): string {
  if (existsSync(join(folder, "vocab.json"))) return folder;
  if (existsSync(join(folder, "tokenizer", "vocab.json"))) return join(folder, "tokenizer");
  throw new TokenizerFileError(`Cannot load a CLIP tokenizer from ${folder}: neither it nor its tokenizer/ folder has vocab.json`);
}

/** `model_max_length` of a `tokenizer_config.json` beside the vocabulary, when there is one. */
async function configuredMaxLength(folder: string): Promise<number | undefined> {
  const path = join(folder, "tokenizer_config.json");
  if (!existsSync(path)) return undefined;
  const config = JSON.parse(await readFile(path, "utf8")) as { model_max_length?: unknown };
  const maxLength = config.model_max_length;
  return typeof maxLength === "number" && Number.isInteger(maxLength) && maxLength > 0 && maxLength < 1e6 ? maxLength : undefined;
}

/** The content of a special-token entry: a string, or transformers' `{ content: "…" }` object. */
function tokenContent(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null && typeof (value as { content?: unknown }).content === "string") {
    return (value as { content: string }).content;
  }
  return undefined;
}

/** `pad_token` of `special_tokens_map.json`, else of `tokenizer_config.json`, when the folder has one. */
async function configuredPadToken(folder: string): Promise<string | undefined> {
  for (const name of ["special_tokens_map.json", "tokenizer_config.json"]) {
    const path = join(folder, name);
    if (!existsSync(path)) continue;
    const json = JSON.parse(await readFile(path, "utf8")) as { pad_token?: unknown };
    const padToken = tokenContent(json.pad_token);
    if (padToken !== undefined) return padToken;
  }
  return undefined;
}

/**
 * `CLIPTokenizer` with Node loaders. Everything else is the universal class.
 *
 * @example
 * ```ts
 * import { CLIPTokenizer } from "@spo/clip/node";
 * const tokenizer = await CLIPTokenizer.fromFolder("./stable-diffusion-v1-5"); // reads tokenizer/vocab.json, merges.txt
 * ```
 */
export class CLIPTokenizer extends BaseCLIPTokenizer {
  /**
   * Loads `vocab.json` and `merges.txt` from a diffusers model folder (its `tokenizer/` subfolder)
   * or from a tokenizer folder; `model_max_length` comes from `tokenizer_config.json` and the pad
   * token from `special_tokens_map.json` / `tokenizer_config.json` when present.
   */
  static async fromFolder(folder: string | URL, options: CLIPTokenizerOptions = {}): Promise<CLIPTokenizer> {
    const path = tokenizerFolder(folder instanceof URL ? fileURLToPath(folder) : folder);
    const [vocabJson, mergesTxt, maxLength, padToken] = await Promise.all([
      readFile(join(path, "vocab.json"), "utf8"),
      readFile(join(path, "merges.txt"), "utf8"),
      configuredMaxLength(path),
      configuredPadToken(path),
    ]);
    return CLIPTokenizer.fromStrings(vocabJson, mergesTxt, { modelMaxLength: maxLength, padToken, ...options });
  }

  /** Loads openai/CLIP's `bpe_simple_vocab_16e6.txt.gz` from disk. */
  static async fromOpenAIBpeFile(path: string | URL, options: CLIPTokenizerOptions = {}): Promise<CLIPTokenizer> {
    return await CLIPTokenizer.fromOpenAIBpe(await readFile(path), options);
  }
}

/**
 * The CLIP tokenizer with the vocabulary shipped in this package (openai/CLIP's, MIT), as SD1.5's
 * `tokenizer/` folder has it.
 *
 * @example
 * ```ts
 * const tokenizer = await loadDefaultClipTokenizer();
 * tokenizer.encode("a photo of a cat", { padding: false }); // [49406, 320, 1125, 539, 320, 2368, 49407]
 * ```
 */
export async function loadDefaultClipTokenizer(options: CLIPTokenizerOptions = {}): Promise<CLIPTokenizer> {
  return await CLIPTokenizer.fromFolder(DEFAULT_CLIP_ASSETS_URL, options);
}
