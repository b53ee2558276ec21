/**
 * CLIP for browsers and Node: the byte-level BPE tokenizer exactly as Stable Diffusion 1.5 uses it
 * (transformers' `CLIPTokenizer` with ftfy: text clean-up, lower case, BPE with `</w>`,
 * `<|startoftext|>` 49406 / `<|endoftext|>` 49407, padded with 49407 to 77), and the text and
 * vision encoders on `@spo/wgpu-tensor` (transformers' `CLIPTextModel` with clip skip,
 * `CLIPVisionModelWithProjection`, …) built from their `config.json`, loading their checkpoints.
 *
 * Node loaders (`CLIPTokenizer.fromFolder`, `loadDefaultClipTokenizer`, `loadCLIPTextModel`, …)
 * are in `@spo/clip/node`.
 *
 * @example
 * ```ts
 * import { CLIPTokenizer } from "@spo/clip";
 * const base = new URL("./node_modules/@spo/clip/assets/clip/", location.href);
 * const tokenizer = await CLIPTokenizer.fromUrl(base);
 * tokenizer.encode("a photo of a cat"); // [49406, 320, 1125, 539, 320, 2368, 49407, 49407, ...] (77 ids)
 * ```
 *
 * @module
 */

export {
  CLIPTokenizer,
  type CLIPTokenizerClass,
  type CLIPTokenizerOptions,
  type DecodeOptions,
  type EncodeOptions,
  TokenizerError,
} from "./tokenizer/clip_tokenizer.ts";
export { BytePairEncoder, END_OF_WORD, type Merge } from "./tokenizer/bpe.ts";
export { BYTE_TO_UNICODE, bytesToUnicode, UNICODE_TO_BYTE } from "./tokenizer/byte_unicode.ts";
export { CLIP_PATTERN, END_OF_TEXT, pretokenize, splitOnSpecialTokens, START_OF_TEXT } from "./tokenizer/pretokenize.ts";
export { cleanText, whitespaceClean } from "./tokenizer/text_cleanup.ts";
export {
  type BpeVocabulary,
  buildClipVocab,
  CLIP_MERGE_COUNT,
  gunzip,
  parseMerges,
  parseOpenAIBpeGz,
  parseVocabJson,
  TokenizerFileError,
} from "./tokenizer/vocab.ts";
export { openaiEncode, openaiTokenize } from "./tokenizer/openai_tokenize.ts";
export { fixText } from "./tokenizer/ftfy/fix_text.ts";
export { fixEncoding } from "./tokenizer/ftfy/fix_encoding.ts";
export { badness, isBad } from "./tokenizer/ftfy/badness.ts";
export {
  type CLIPEncoderConfig,
  type CLIPHiddenAct,
  type CLIPTextConfig,
  clipTextConfigFromTransformers,
  type CLIPVisionConfig,
  clipVisionConfigFromTransformers,
  SD15_TEXT_ENCODER_CONFIG,
  UnsupportedConfigError,
} from "./transformer/clip_config.ts";
export { clipActivation, quickGelu } from "./transformer/activations.ts";
export { CLIPAttention, type CLIPAttentionOptions } from "./transformer/clip_attention.ts";
export {
  CLIPEncoder,
  CLIPEncoderLayer,
  type CLIPEncoderLayerFactory,
  type CLIPEncoderLayerOptions,
  type CLIPEncoderOptions,
  type CLIPLayerModulation,
  CLIPMLP,
} from "./transformer/clip_encoder.ts";
export { checkIds, CLIPTextEmbeddings } from "./text_encoder/clip_text_embeddings.ts";
export { gatherTokens, poolingIndices } from "./text_encoder/pooling.ts";
export { textAttentionMask } from "./text_encoder/attention_mask.ts";
export {
  type CLIPTextForwardOptions,
  CLIPTextModel,
  CLIPTextModelWithProjection,
  type CLIPTextOutput,
  type CLIPTextProjectionOutput,
  CLIPTextTransformer,
} from "./text_encoder/clip_text_model.ts";
export { CLIPVisionEmbeddings } from "./vision_encoder/clip_vision_embeddings.ts";
export {
  type CLIPVisionForwardOptions,
  CLIPVisionModel,
  CLIPVisionModelWithProjection,
  type CLIPVisionOutput,
  type CLIPVisionParts,
  type CLIPVisionProjectionOutput,
  CLIPVisionTransformer,
} from "./vision_encoder/clip_vision_model.ts";
export { type ClipLoadOptions, clipFileNaming, LDM_CLIP_TEXT_PREFIX, loadClipWeights } from "./loading/clip_checkpoint.ts";
