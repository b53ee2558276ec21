/**
 * What AUTOMATIC1111's built-in Lora extension (`extensions-builtin/Lora/extra_networks_lora.py`,
 * v1.5+) reads from each `<lora:name:te:unet:dyn>` tag: the LoRA's name, its text-encoder and
 * UNet multipliers, and the optional rank to truncate it to.
 *
 * @module
 */

import { parsePythonFloat, parsePythonInt } from "./_python.ts";
import { type ExtraNetworkParams, parseExtraNetworks } from "./extra_networks.ts";
import { PromptSyntaxError } from "./prompt_attention.ts";

/** One LoRA requested by a prompt. */
export interface LoraTag {
  /** The LoRA's name (its file stem or alias), the first positional argument. */
  name: string;
  /** Multiplier of its text-encoder weights: 2nd positional or `te=`, default 1. */
  teMultiplier: number;
  /** Multiplier of its UNet weights: 3rd positional or `unet=`, default the text-encoder one. */
  unetMultiplier: number;
  /** Rank to truncate to: 4th positional or `dyn=`, default null (all of it). */
  dynDim: number | null;
}

/** Which tag kinds count as LoRAs. */
export interface LoraTagOptions {
  /** Tag kinds read as LoRAs (default `["lora"]`; A1111 also routes its alias `lyco` here). */
  kinds?: readonly string[];
}

function describe(params: ExtraNetworkParams): string {
  return `<lora:${params.items.join(":")}>`;
}

function toFloat(value: string, what: string, params: ExtraNetworkParams): number {
  const number = parsePythonFloat(value);
  if (number === null) throw new PromptSyntaxError(`Cannot read ${describe(params)}: the ${what} ${JSON.stringify(value)} is not a number`);
  // Python's float() reads "nan" and "inf", which would turn every pixel black: refused here
  if (!Number.isFinite(number))
    throw new PromptSyntaxError(`Cannot read ${describe(params)}: the ${what} ${JSON.stringify(value)} is not a finite number`);
  return number;
}

function toInt(value: string, params: ExtraNetworkParams): number {
  const number = parsePythonInt(value);
  if (number === null) throw new PromptSyntaxError(`Cannot read ${describe(params)}: dyn ${JSON.stringify(value)} is not an integer`);
  return number;
}

/**
 * The LoRA of one tag's parameters, by the rules of A1111's `ExtraNetworkLora.activate`.
 *
 * @example
 * ```ts
 * loraTagFromParams(extraNetworkParams("x:0.5:te=0.3")); // { name: "x", teMultiplier: 0.3, unetMultiplier: 0.3, dynDim: null }
 * ```
 */
export function loraTagFromParams(params: ExtraNetworkParams): LoraTag {
  const [name, te, unet, dyn] = params.positional;
  if (name === undefined) throw new PromptSyntaxError(`Cannot read ${describe(params)}: it names no LoRA (every argument is key=value)`);
  // As in A1111, a positional value is parsed (and must be valid) even when a named one overrides it.
  let teMultiplier = te === undefined ? 1.0 : toFloat(te, "te multiplier", params);
  const namedTe = params.named.get("te");
  if (namedTe !== undefined) teMultiplier = toFloat(namedTe, "te multiplier", params);
  let unetMultiplier = unet === undefined ? teMultiplier : toFloat(unet, "unet multiplier", params);
  const namedUnet = params.named.get("unet");
  if (namedUnet !== undefined) unetMultiplier = toFloat(namedUnet, "unet multiplier", params);
  let dynDim = dyn === undefined ? null : toInt(dyn, params);
  const namedDyn = params.named.get("dyn");
  if (namedDyn !== undefined) dynDim = toInt(namedDyn, params);
  return { name, teMultiplier, unetMultiplier, dynDim };
}

/**
 * The LoRAs among already parsed extra-network tags (see {@link parseExtraNetworks}), in prompt
 * order (by kind, then position, when several kinds are read).
 *
 * @example
 * ```ts
 * const { text, networks } = parseExtraNetworks("<lora:spo:0.8> a cat");
 * loraTagsFromNetworks(networks); // [{ name: "spo", teMultiplier: 0.8, unetMultiplier: 0.8, dynDim: null }]
 * ```
 */
export function loraTagsFromNetworks(
  networks: ReadonlyMap<string, readonly ExtraNetworkParams[]>,
  options: LoraTagOptions = {},
): LoraTag[] {
  const kinds = options.kinds ?? ["lora"];
  return kinds.flatMap((kind) => (networks.get(kind) ?? []).map(loraTagFromParams));
}

/**
 * The `<lora:...>` tags of a prompt: `<lora:name>` (1, 1), `<lora:name:0.8>` (0.8 for both),
 * `<lora:name:0.5:0.8>` (te 0.5, UNet 0.8), `<lora:name:1:1:16>` (rank 16), and the named forms
 * `te=`, `unet=`, `dyn=` which win over positional ones.
 *
 * @example
 * ```ts
 * parseLoraTags("<lora:foo:0.5:0.8> <lora:bar> photo");
 * // [{ name: "foo", teMultiplier: 0.5, unetMultiplier: 0.8, dynDim: null },
 * //  { name: "bar", teMultiplier: 1, unetMultiplier: 1, dynDim: null }]
 * ```
 */
export function parseLoraTags(prompt: string, options: LoraTagOptions = {}): LoraTag[] {
  return loraTagsFromNetworks(parseExtraNetworks(prompt).networks, options);
}
