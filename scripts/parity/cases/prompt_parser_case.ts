/**
 * Computes the outputs of an oracle manifest of kind `prompt_parser`
 * (shared/fixtures/oracle/README.md) from each case's `prompt`, in the reference's JSON shapes.
 *
 * @module
 */

import {
  type ExtraNetworkParams,
  loraTagsFromNetworks,
  parseExtraNetworks,
  parsePromptAttention,
  type PromptChunk,
} from "../../../packages/pipeline/mod.ts";

/** The fields of a `prompt_parser` manifest this reads. */
export interface PromptParserParityManifest {
  kind: string;
  cases: readonly { prompt: string; [output: string]: unknown }[];
}

/** One case's outputs, named and shaped like the reference's (Python dicts and lists). */
export interface PromptParserParityResult {
  prompt: string;
  parse_prompt_attention: PromptChunk[];
  extra_networks: {
    prompt_without_extra_networks: string;
    networks: Record<string, { items: string[]; positional: string[]; named: Record<string, string> }[]>;
  };
  loras: { name: string; te_multiplier: number; unet_multiplier: number; dyn_dim: number | null }[];
  parse_prompt_attention_after_extra_networks: PromptChunk[];
}

function paramsAsJson(params: ExtraNetworkParams) {
  return { items: params.items, positional: params.positional, named: Object.fromEntries(params.named) };
}

/**
 * Runs every case of a `prompt_parser` manifest: `parse_prompt_attention`, `extra_networks`,
 * `loras`, and `parse_prompt_attention_after_extra_networks` (the webui's order: tags first).
 *
 * @example
 * ```ts
 * const [result] = promptParserParityCase({ kind: "prompt_parser", cases: [{ prompt: "(a:1.5) b" }] });
 * result.parse_prompt_attention; // [["a", 1.5], [" b", 1]]
 * ```
 */
export function promptParserParityCase(manifest: PromptParserParityManifest): PromptParserParityResult[] {
  return manifest.cases.map(({ prompt }) => {
    const { text, networks } = parseExtraNetworks(prompt);
    return {
      prompt,
      parse_prompt_attention: parsePromptAttention(prompt),
      extra_networks: {
        prompt_without_extra_networks: text,
        networks: Object.fromEntries([...networks].map(([kind, list]) => [kind, list.map(paramsAsJson)])),
      },
      loras: loraTagsFromNetworks(networks).map((tag) => ({
        name: tag.name,
        te_multiplier: tag.teMultiplier,
        unet_multiplier: tag.unetMultiplier,
        dyn_dim: tag.dynDim,
      })),
      parse_prompt_attention_after_extra_networks: parsePromptAttention(text),
    };
  });
}
