// The tokenizer with the shipped vocabulary, loaded once per test file.
import { loadDefaultClipTokenizer } from "../tokenizer/clip_tokenizer_node.ts";
import type { CLIPTokenizer } from "../tokenizer/clip_tokenizer.ts";

let tokenizer: Promise<CLIPTokenizer> | undefined;

/** The default CLIP tokenizer (packages/clip/assets/clip/), shared by the tests of one file. */
export function defaultTokenizer(): Promise<CLIPTokenizer> {
  tokenizer ??= loadDefaultClipTokenizer();
  return tokenizer;
}
