/**
 * What `spo generate` checks before it loads a model: the prompt's syntax, the LoRA files its tags
 * name, that `--out` can be written, and the limits the model's small config files set (clip
 * skip). A mistake found here costs nothing; found after loading it costs minutes.
 *
 * @module
 */

import { stat, unlink, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { loraFolderResolver } from "../pipeline/lora_folder_node.ts";
import { isUrlString } from "../pipeline/model_source.ts";
import { modelSourceOf } from "../pipeline/model_source_node.ts";
import { LoraNotFoundError } from "../pipeline/prompt_loras.ts";
import { parseExtraNetworks } from "../prompt/extra_networks.ts";
import { type LoraTag, loraTagsFromNetworks } from "../prompt/lora_tags.ts";
import { parsePromptAttention } from "../prompt/prompt_attention.ts";
import { type GenerateCommand, UsageError } from "./args.ts";
import { PreflightError } from "./failures.ts";

/** The file image `index` of `count` is written to: `out`, or `out` with `-index` before the extension. */
export function outputPath(out: string, index: number, count: number): string {
  if (count === 1) return out;
  const dot = out.lastIndexOf(".");
  return dot > 0 ? `${out.slice(0, dot)}-${index}${out.slice(dot)}` : `${out}-${index}`;
}

/** Parses both prompts as `generate` will (throws PromptSyntaxError) and returns the positive prompt's LoRA tags. */
export function checkPromptSyntax(prompt: string, negative: string): LoraTag[] {
  let tags: LoraTag[] = [];
  for (const [i, text] of [prompt, negative].entries()) {
    const parsed = parseExtraNetworks(text);
    const found = loraTagsFromNetworks(parsed.networks);
    parsePromptAttention(parsed.text);
    if (i === 0) tags = found;
  }
  return tags;
}

/** Every output file's folder exists and takes a new file, and no output path is a folder. */
export async function checkOutput(out: string, count: number): Promise<void> {
  const paths = Array.from({ length: count }, (_, i) => outputPath(out, i, count));
  for (const path of paths) {
    const existing = await stat(path).catch(() => null);
    if (existing?.isDirectory())
      throw new PreflightError(`Cannot write --out "${path}": it is a folder, give a file name such as ${join(path, "image.png")}`);
  }
  const folder = dirname(resolve(paths[0]!));
  const info = await stat(folder).catch(() => null);
  if (!info) throw new PreflightError(`Cannot write --out "${paths[0]}": the folder "${folder}" does not exist`);
  if (!info.isDirectory()) throw new PreflightError(`Cannot write --out "${paths[0]}": "${folder}" is not a folder`);
  // the one honest test of writability (permissions, read-only mounts, root's exemptions) is a write
  const probe = join(folder, `.spo-write-test-${process.pid}-${Date.now()}`);
  try {
    await writeFile(probe, "");
  } catch (error) {
    throw new PreflightError(`Cannot write --out "${paths[0]}": ${(error as Error).message}`, { cause: error });
  }
  await unlink(probe).catch(() => {});
}

/** `--lora-dir` is a folder, and each tagged LoRA is in it with a valid safetensors header. */
export async function checkLoras(loraDir: string | undefined, tags: readonly LoraTag[]): Promise<void> {
  if (loraDir === undefined) return;
  const info = await stat(loraDir).catch(() => null);
  if (!info) throw new PreflightError(`Cannot use --lora-dir "${loraDir}": the folder does not exist`);
  if (!info.isDirectory()) throw new PreflightError(`Cannot use --lora-dir "${loraDir}": it is not a folder`);
  const resolver = loraFolderResolver(loraDir);
  for (const tag of tags) {
    const found = await resolver(tag.name);
    if (found === null)
      throw new LoraNotFoundError(`Cannot apply <lora:${tag.name}:…>: no LoRA named "${tag.name}" was found in "${loraDir}"`);
    await found.reader?.close();
  }
}

/** The clip skip fits the model's text encoder, read from its config.json (skipped when it cannot be read: loading will say why). */
export async function checkModelLimits(args: GenerateCommand): Promise<void> {
  let config: { num_hidden_layers?: unknown };
  try {
    const source = modelSourceOf(args.model, { timeoutMs: args.timeoutSeconds * 1000 });
    config = JSON.parse(await source.readText("text_encoder/config.json"));
  } catch {
    return;
  }
  const layers = config.num_hidden_layers;
  if (typeof layers === "number" && args.clipSkip > layers) {
    throw new UsageError(`--clip-skip ${args.clipSkip} is more than the text encoder's ${layers} layers`);
  }
}

/** A model given as a path is a folder (a URL is tried when loading). */
export async function checkModelFolder(model: string): Promise<void> {
  if (isUrlString(model)) return;
  const info = await stat(model).catch(() => null);
  if (!info) throw new PreflightError(`Cannot load a Stable Diffusion model from "${model}": the folder does not exist`);
  if (!info.isDirectory())
    throw new PreflightError(
      `Cannot load a Stable Diffusion model from "${model}": it is not a folder (give a diffusers folder with unet/, text_encoder/, …)`,
    );
}

/** Runs every check, cheapest first. */
export async function preflight(args: GenerateCommand): Promise<void> {
  const tags = checkPromptSyntax(args.prompt, args.negative);
  await checkOutput(args.out, args.batch);
  await checkLoras(args.loraDir, tags);
  await checkModelFolder(args.model);
  await checkModelLimits(args);
}
