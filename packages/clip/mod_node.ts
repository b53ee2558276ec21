/**
 * Everything in `@spo/clip`, plus loading the tokenizer from disk in Node: `CLIPTokenizer` here is
 * the universal class with `fromFolder` (a diffusers model folder or a tokenizer folder) and
 * `fromOpenAIBpeFile` added, and `loadDefaultClipTokenizer()` reads the vocabulary shipped with
 * the package; `loadCLIPTextModel` and friends read encoders from diffusers / transformers folders.
 *
 * @example
 * ```ts
 * import { loadDefaultClipTokenizer } from "@spo/clip/node";
 * const tokenizer = await loadDefaultClipTokenizer();
 * tokenizer.tokenize("masterpiece, 1girl"); // ["masterpiece</w>", ",</w>", "1</w>", "girl</w>"]
 * ```
 *
 * @module
 */

export * from "./mod.ts";
export { CLIPTokenizer, DEFAULT_CLIP_ASSETS_URL, loadDefaultClipTokenizer } from "./tokenizer/clip_tokenizer_node.ts";
export {
  type ClipFolderOptions,
  loadCLIPTextModel,
  loadCLIPTextModelFromSingleFile,
  loadCLIPTextModelWithProjection,
  loadCLIPVisionModel,
  loadCLIPVisionModelWithProjection,
} from "./loading/clip_loader_node.ts";
