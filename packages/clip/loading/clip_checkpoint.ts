import type { SafetensorsReader } from "@spo/safetensors";
import type { LoadReport, Module } from "@spo/wgpu-tensor";
import { loadWeights } from "@spo/wgpu-tensor";

/** Where SD single-file checkpoints (A1111, CompVis) keep the text encoder. */
export const LDM_CLIP_TEXT_PREFIX = "cond_stage_model.transformer.";

/** Options of `loadClipWeights`. */
export interface ClipLoadOptions {
  /**
   * Prefix of the model's keys in the file. Default: detected — none (transformers/diffusers
   * files, a full `CLIPModel` file), or `cond_stage_model.transformer.` (SD single-file
   * checkpoints, with or without the `text_model.` level older files lack).
   */
  prefix?: string;
  /** Fail before loading anything on missing, unexpected or mis-shaped keys. Default true. */
  strict?: boolean;
  onProgress?: (loaded: number, total: number, name: string) => void;
}

/** Buffers some files carry that the model recomputes (transformers' `position_ids`). */
function isIgnoredBuffer(fileName: string): boolean {
  return fileName.endsWith("embeddings.position_ids");
}

/**
 * How the model's parameter names map to the file's: the first candidate layout under which the
 * file holds the model's first parameter.
 *
 * @example
 * ```ts
 * const nameOf = clipFileNaming(textEncoder, reader); // reader of an A1111 checkpoint
 * nameOf("text_model.final_layer_norm.weight"); // "cond_stage_model.transformer.text_model.final_layer_norm.weight"
 * ```
 */
export function clipFileNaming(model: Module, reader: Pick<SafetensorsReader, "has">, prefix?: string): (name: string) => string {
  const probe = model.namedParameters().next().value?.[0] ?? "";
  const prefixes = prefix !== undefined ? [prefix] : ["", LDM_CLIP_TEXT_PREFIX];
  for (const candidate of prefixes) {
    if (reader.has(candidate + probe)) return (name) => candidate + name;
    // older single-file checkpoints: cond_stage_model.transformer.embeddings… (no text_model.)
    if (probe.startsWith("text_model.") && reader.has(candidate + probe.slice("text_model.".length))) {
      return (name) => candidate + name.replace(/^text_model\./, "");
    }
  }
  return (name) => (prefix ?? "") + name;
}

/**
 * Loads a CLIP model (`CLIPTextModel`, `CLIPTextModelWithProjection`, `CLIPVisionModel`,
 * `CLIPVisionModelWithProjection`, or any module named like them) from a safetensors reader —
 * a file in Node, a URL (`openSafetensorsUrl`) in browsers — streaming tensor by tensor and
 * converting F16/BF16 to f32. Keys of other models in the same file (the vision tower of a
 * `CLIPModel`, the UNet of a single-file SD checkpoint) are left alone; `position_ids` buffers
 * are ignored.
 *
 * @example
 * ```ts
 * const textEncoder = CLIPTextModel.fromConfig(config, { init: "meta" });
 * await loadClipWeights(textEncoder, await openSafetensorsUrl(`${repo}/text_encoder/model.safetensors`));
 * ```
 */
export function loadClipWeights(model: Module, reader: SafetensorsReader, options: ClipLoadOptions = {}): Promise<LoadReport> {
  const fileNameOf = clipFileNaming(model, reader, options.prefix);
  const roots = new Set([...model.namedParameters()].map(([name]) => name.split(".")[0]));
  const rootPrefixes = [...roots].map((root) => fileNameOf(`${root}.`));
  const isRelevant = (fileName: string) => !isIgnoredBuffer(fileName) && rootPrefixes.some((p) => fileName.startsWith(p));
  return loadWeights(model, reader, { fileNameOf, isRelevant, strict: options.strict, onProgress: options.onProgress });
}
