/**
 * Applying the `<lora:name:te:unet>` tags of a prompt for one generation, as AUTOMATIC1111 does:
 * each named LoRA is found by a resolver and added to the text encoder and the UNet with the
 * tag's multipliers, and taken out again afterwards. The LoRAs run as side branches rather than
 * merged weights, so removing them leaves the base weights bit for bit as they were.
 *
 * @module
 */

import { type AppliedLoras, applyLoras, type LoraModels, type LoraSpec } from "@spo/lora";
import type { LoraTag } from "../prompt/lora_tags.ts";

/** The weights of one LoRA: its tensors, or a safetensors reader (closed by the pipeline once read). */
export type ResolvedLora = Pick<LoraSpec, "tensors" | "reader" | "peftConfig" | "alpha">;

/**
 * Finds the LoRA a tag names (A1111: the file stem under `models/Lora`), or `null` when there is
 * none, which `generate` reports as an error naming the tag.
 */
export type LoraResolver = (name: string) => Promise<ResolvedLora | null>;

/** Thrown when a LoRA's file (or its folder) cannot be read; the message names the file. */
export class LoraFileError extends Error {
  override name = "LoraFileError";
}

/** Thrown when a prompt names a LoRA the resolver does not know. */
export class LoraNotFoundError extends Error {
  override name = "LoraNotFoundError";
}

/**
 * Resolves the LoRAs of `tags` and attaches them to `models`; `remove()` on the result restores them.
 * A name given twice is applied once with the multipliers of its first tag (the webui's rule).
 *
 * @example
 * ```ts
 * const applied = await applyPromptLoras({ unet, text_encoder: textEncoder }, parseLoraTags(prompt), resolver);
 * try { … } finally { applied.remove(); }
 * ```
 */
export async function applyPromptLoras(models: LoraModels, tags: readonly LoraTag[], resolve: LoraResolver): Promise<AppliedLoras> {
  const firstTags = tags.filter((tag, i) => tags.findIndex((other) => other.name === tag.name) === i);
  const specs: LoraSpec[] = [];
  try {
    for (const tag of firstTags) {
      const found = await resolve(tag.name);
      if (found === null) throw new LoraNotFoundError(`Cannot apply <lora:${tag.name}:…>: no LoRA named "${tag.name}" was found`);
      specs.push({ ...found, name: tag.name, weights: { text_encoder: tag.teMultiplier, unet: tag.unetMultiplier } });
    }
    return await applyLoras(models, specs);
  } finally {
    await Promise.all(specs.map((spec) => spec.reader?.close()));
  }
}
