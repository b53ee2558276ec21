/**
 * The two ways the CLIP vocabulary is published: transformers' `vocab.json` + `merges.txt`, and
 * openai/CLIP's `bpe_simple_vocab_16e6.txt.gz` (a gzip'd merges list from which the vocabulary is
 * built). Both give the same 49,408 tokens.
 *
 * @module
 */

import { byteCharactersInVocabOrder } from "./byte_unicode.ts";
import { END_OF_WORD, type Merge } from "./bpe.ts";
import { END_OF_TEXT, START_OF_TEXT } from "./pretokenize.ts";

/** CLIP uses the first 49152 - 256 - 2 = 48,894 merges of its merges file. */
export const CLIP_MERGE_COUNT = 49152 - 256 - 2;

/** A tokenizer vocabulary: token → id, and the merge rules in rank order. */
export interface BpeVocabulary {
  vocab: Map<string, number>;
  merges: Merge[];
}

/** Thrown for a vocabulary or merges file that cannot be read. */
export class TokenizerFileError extends Error {
  override name = "TokenizerFileError";
}

/**
 * Reads a merges file: the first line (`#version: 0.2`) is a header, then one `first second` rule
 * per line; like transformers, only the first `limit` rules are used (48,894 for CLIP).
 *
 * @example
 * ```ts
 * parseMerges("#version: 0.2\ni n\nt h\n"); // [["i", "n"], ["t", "h"]]
 * ```
 */
export function parseMerges(text: string, limit = CLIP_MERGE_COUNT): Merge[] {
  const lines = text
    .trim()
    .split("\n")
    .slice(1, 1 + limit);
  return lines.map((line, index) => {
    const trimmed = line.trim();
    const space = trimmed.indexOf(" ");
    const first = trimmed.slice(0, space);
    const second = trimmed.slice(space + 1);
    if (space <= 0 || second.length === 0 || /\s/.test(second)) {
      throw new TokenizerFileError(
        `Cannot read merge rule ${index + 1} ${JSON.stringify(line)}: expected two symbols separated by a space`,
      );
    }
    return [first, second] as const;
  });
}

/**
 * Reads transformers' `vocab.json` (an object token → id).
 *
 * @example
 * ```ts
 * parseVocabJson('{"a": 0, "b</w>": 1}').get("b</w>"); // 1
 * ```
 */
export function parseVocabJson(text: string): Map<string, number> {
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new TokenizerFileError("Cannot read vocab.json: expected a JSON object mapping tokens to ids");
  }
  const entries = parsed as Record<string, unknown>;
  const vocab = new Map<string, number>();
  for (const token in entries) {
    const id = entries[token];
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0) {
      throw new TokenizerFileError(
        `Cannot read vocab.json: token ${JSON.stringify(token)} has id ${JSON.stringify(id)}, expected an integer >= 0`,
      );
    }
    vocab.set(token, id);
  }
  return vocab;
}

/**
 * Builds the vocabulary from merges the way openai/CLIP's `SimpleTokenizer` does: the 256 byte
 * characters, the same with `</w>`, each merge joined, then `<|startoftext|>` and `<|endoftext|>`.
 *
 * @example
 * ```ts
 * const vocab = buildClipVocab([["i", "n"]]);
 * vocab.get("in"); // 512
 * vocab.get("<|endoftext|>"); // 514
 * ```
 */
export function buildClipVocab(merges: readonly Merge[]): Map<string, number> {
  const bytes = byteCharactersInVocabOrder();
  const tokens = [
    ...bytes,
    ...bytes.map((char) => char + END_OF_WORD),
    ...merges.map(([first, second]) => first + second),
    START_OF_TEXT,
    END_OF_TEXT,
  ];
  // As Python's dict(zip(vocab, range(n))): a repeated token keeps its last id.
  return new Map(tokens.map((token, id) => [token, id]));
}

/**
 * Gunzips bytes with the web-standard `DecompressionStream` (browsers, Node 18+, Deno).
 *
 * @example
 * ```ts
 * const text = new TextDecoder().decode(await gunzip(gzippedBytes));
 * ```
 */
export async function gunzip(bytes: Uint8Array | ArrayBuffer): Promise<Uint8Array> {
  // A copy into a fresh ArrayBuffer-backed array: Blob takes no SharedArrayBuffer views.
  const stream = new Blob([new Uint8Array(bytes)]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Reads openai/CLIP's `bpe_simple_vocab_16e6.txt.gz`: the merges after its header line, and the
 * vocabulary built from them by {@link buildClipVocab}.
 *
 * @example
 * ```ts
 * const { vocab, merges } = await parseOpenAIBpeGz(await (await fetch(bpeGzUrl)).arrayBuffer());
 * vocab.size; // 49408
 * ```
 */
export async function parseOpenAIBpeGz(gzipped: Uint8Array | ArrayBuffer): Promise<BpeVocabulary> {
  const text = new TextDecoder("utf-8", { fatal: true }).decode(await gunzip(gzipped));
  // SimpleTokenizer splits on "\n" without trimming; the lines it uses are the same.
  const merges = parseMerges(text);
  return { vocab: buildClipVocab(merges), merges };
}
