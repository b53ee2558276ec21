/**
 * AUTOMATIC1111's extra-network tags (`modules/extra_networks.py`, `parse_prompt`): every
 * `<kind:arguments>` in a prompt, such as `<lora:name:0.8>` or `<hypernet:name:1>`, is removed
 * from the text and recorded with its arguments split on `:`.
 *
 * @module
 */

import { PY_WORD } from "./_python.ts";

/** The arguments of one tag, split like A1111's `ExtraNetworkParams`. */
export interface ExtraNetworkParams {
  /** The argument string split on `:`. */
  items: string[];
  /** The items that are not `key=value`. */
  positional: string[];
  /** The items with exactly one `=`, as key → value (a repeated key keeps its last value). */
  named: Map<string, string>;
}

/** A prompt without its tags, and the tags by kind (`lora`, `hypernet`, ...) in prompt order. */
export interface ParsedExtraNetworks {
  text: string;
  networks: Map<string, ExtraNetworkParams[]>;
}

/** `re_extra_net`: `<` a word `:` anything but `>` `>`. */
const EXTRA_NETWORK_RE = new RegExp(`<(${PY_WORD}+):([^>]+)>`, "gu");

/**
 * Splits one tag's argument string: items with exactly one `=` are named, the others positional
 * (A1111's `ExtraNetworkParams`).
 *
 * @example
 * ```ts
 * extraNetworkParams("baz:te=0.3:1"); // { items: ["baz", "te=0.3", "1"], positional: ["baz", "1"], named: Map { "te" => "0.3" } }
 * ```
 */
export function extraNetworkParams(args: string): ExtraNetworkParams {
  const items = args.split(":");
  const positional: string[] = [];
  const named = new Map<string, string>();
  for (const item of items) {
    const parts = item.split("=");
    if (parts.length === 2) named.set(parts[0]!, parts[1]!);
    else positional.push(item);
  }
  return { items, positional, named };
}

/**
 * Removes every `<kind:arguments>` tag from a prompt and returns the tags by kind, like A1111's
 * `extra_networks.parse_prompt` (the text keeps the spaces around removed tags).
 *
 * @example
 * ```ts
 * const { text, networks } = parseExtraNetworks("<lora:spo:0.8> a cat");
 * text; // " a cat"
 * networks.get("lora")![0]!.positional; // ["spo", "0.8"]
 * ```
 */
export function parseExtraNetworks(prompt: string): ParsedExtraNetworks {
  const networks = new Map<string, ExtraNetworkParams[]>();
  const text = prompt.replace(EXTRA_NETWORK_RE, (_match, kind: string, args: string) => {
    const list = networks.get(kind) ?? [];
    list.push(extraNetworkParams(args));
    networks.set(kind, list);
    return "";
  });
  return { text, networks };
}
