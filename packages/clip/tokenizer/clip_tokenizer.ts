/**
 * `CLIPTokenizer`: CLIP's byte-level BPE tokenizer exactly as Stable Diffusion 1.5 uses it
 * (transformers' slow `CLIPTokenizer` with ftfy), for browsers and Node.
 *
 * @module
 */

import { BytePairEncoder, END_OF_WORD, type Merge } from "./bpe.ts";
import { bytesToUnicode, UNICODE_TO_BYTE } from "./byte_unicode.ts";
import { END_OF_TEXT, pretokenize, splitOnSpecialTokens, START_OF_TEXT } from "./pretokenize.ts";
import { cleanText } from "./text_cleanup.ts";
import { parseMerges, parseOpenAIBpeGz, parseVocabJson, TokenizerFileError } from "./vocab.ts";

/** How {@link CLIPTokenizer.encode} adds special tokens, pads and truncates. */
export interface EncodeOptions {
  /** The length to truncate and pad to (default: `modelMaxLength`, 77 for SD). */
  maxLength?: number;
  /**
   * `"max_length"` (default) pads with the pad token (`<|endoftext|>` for SD) to `maxLength`;
   * `"longest"` pads a batch to its longest row; `false` does not pad.
   */
  padding?: "max_length" | "longest" | false;
  /** Whether to cut the text tokens so that the ids fit in `maxLength` (default true). */
  truncation?: boolean;
  /** Whether to wrap the ids in `<|startoftext|>` ... `<|endoftext|>` (default true). */
  addSpecialTokens?: boolean;
}

/** How {@link CLIPTokenizer.decode} turns ids back into text. */
export interface DecodeOptions {
  /** Leave out `<|startoftext|>` and `<|endoftext|>` (default true; transformers defaults to false). */
  skipSpecialTokens?: boolean;
}

/** Options of the tokenizer itself. */
export interface CLIPTokenizerOptions {
  /** The context length of the text encoder (default 77). */
  modelMaxLength?: number;
  /**
   * The token padding uses (default `<|endoftext|>`, as SD1.5's tokenizer). OpenCLIP ViT-H/14's
   * tokenizer (laion/CLIP-ViT-H-14-laion2B-s32B-b79K, the step-aware preference model's) pads with
   * `"!"` (id 0); `fromFolder` reads it from the folder's `special_tokens_map.json` /
   * `tokenizer_config.json`.
   */
  padToken?: string;
}

/** A tokenizer class, for the static factories (they build instances of the class they are called on). */
export type CLIPTokenizerClass<T extends CLIPTokenizer> = new (
  vocab: ReadonlyMap<string, number>,
  merges: readonly Merge[],
  options?: CLIPTokenizerOptions,
) => T;

/** Thrown when ids or options cannot be used with this tokenizer. */
export class TokenizerError extends RangeError {
  override name = "TokenizerError";
}

/** The BPE tokens of one pre-token and their ids. */
interface EncodedWord {
  readonly tokens: readonly string[];
  readonly ids: readonly number[];
}

// Both caches (pre-token → ids here, byte string → symbols in the BPE) are emptied past this size.
const WORD_CACHE_LIMIT = 200_000;

/**
 * CLIP's tokenizer: text clean-up (ftfy, whitespace, lower case), pre-tokenization, byte-level BPE
 * with `</w>` end-of-word markers, and SD-style ids: `<|startoftext|>` (49406), at most 75 text
 * tokens, `<|endoftext|>` (49407), padded with 49407 to 77.
 *
 * @example
 * ```ts
 * const tokenizer = CLIPTokenizer.fromStrings(vocabJsonText, mergesTxtText);
 * tokenizer.encode("a photo of a cat").slice(0, 8);
 * // [49406, 320, 1125, 539, 320, 2368, 49407, 49407]
 * tokenizer.tokenize("1girl"); // ["1</w>", "girl</w>"]
 * ```
 */
export class CLIPTokenizer {
  /** The id of `<|startoftext|>`. */
  readonly bosTokenId: number;
  /** The id of `<|endoftext|>`. */
  readonly eosTokenId: number;
  /** The id padding uses (`<|endoftext|>` unless the `padToken` option names another token). */
  readonly padTokenId: number;
  /** The id unknown tokens get (`<|endoftext|>`). */
  readonly unkTokenId: number;
  /** The context length `encode` truncates and pads to by default. */
  readonly modelMaxLength: number;

  readonly #vocab: Map<string, number>;
  readonly #idToToken: string[];
  readonly #bpe: BytePairEncoder;
  readonly #specialTokens = [START_OF_TEXT, END_OF_TEXT];
  readonly #wordCache = new Map<string, EncodedWord>();

  /** Builds a tokenizer from a vocabulary (token → id) and merge rules in rank order. */
  constructor(vocab: ReadonlyMap<string, number>, merges: readonly Merge[], options: CLIPTokenizerOptions = {}) {
    this.#vocab = new Map(vocab);
    this.#idToToken = [];
    for (const [token, id] of this.#vocab) this.#idToToken[id] = token;
    this.bosTokenId = this.#requireId(START_OF_TEXT);
    this.eosTokenId = this.#requireId(END_OF_TEXT);
    this.padTokenId = options.padToken === undefined ? this.eosTokenId : this.#requireId(options.padToken);
    this.unkTokenId = this.eosTokenId;
    this.modelMaxLength = options.modelMaxLength ?? 77;
    this.#bpe = new BytePairEncoder(merges, this.#specialTokens);
  }

  /**
   * From the text of transformers' `vocab.json` and `merges.txt` (e.g. fetched from a model's
   * `tokenizer/` folder in the browser).
   */
  static fromStrings<T extends CLIPTokenizer>(
    this: CLIPTokenizerClass<T>,
    vocabJson: string,
    mergesTxt: string,
    options?: CLIPTokenizerOptions,
  ): T {
    return new this(parseVocabJson(vocabJson), parseMerges(mergesTxt), options);
  }

  /** From openai/CLIP's `bpe_simple_vocab_16e6.txt.gz`, building the vocabulary like its `SimpleTokenizer`. */
  static async fromOpenAIBpe<T extends CLIPTokenizer>(
    this: CLIPTokenizerClass<T>,
    gzipped: Uint8Array | ArrayBuffer,
    options?: CLIPTokenizerOptions,
  ): Promise<T> {
    const { vocab, merges } = await parseOpenAIBpeGz(gzipped);
    return new this(vocab, merges, options);
  }

  /**
   * Fetches `vocab.json` and `merges.txt` from a folder URL (a model's `tokenizer/` folder on a
   * server, or the package's `assets/clip/` folder).
   */
  static async fromUrl<T extends CLIPTokenizer>(
    this: CLIPTokenizerClass<T>,
    folderUrl: string | URL,
    options: CLIPTokenizerOptions & { fetch?: typeof fetch } = {},
  ): Promise<T> {
    const fetchText = async (name: string): Promise<string> => {
      const url = new URL(name, String(folderUrl).endsWith("/") ? folderUrl : `${folderUrl}/`);
      const response = await (options.fetch ?? fetch)(url);
      if (!response.ok) throw new TokenizerFileError(`Cannot fetch ${url}: HTTP ${response.status}`);
      return await response.text();
    };
    const [vocabJson, mergesTxt] = await Promise.all([fetchText("vocab.json"), fetchText("merges.txt")]);
    return new this(parseVocabJson(vocabJson), parseMerges(mergesTxt), options);
  }

  /** The number of tokens in the vocabulary (49,408 for CLIP). */
  get vocabSize(): number {
    return this.#vocab.size;
  }

  /** The vocabulary as token → id. */
  getVocab(): ReadonlyMap<string, number> {
    return this.#vocab;
  }

  /**
   * The BPE token strings of a text, without special tokens, padding or truncation.
   *
   * @example
   * ```ts
   * tokenizer.tokenize("Masterpiece, (cat)"); // ["masterpiece</w>", ",</w>", "(</w>", "cat</w>", ")</w>"]
   * ```
   */
  tokenize(text: string): string[] {
    return this.#encodeWords(text).flatMap((word) => word.tokens);
  }

  /**
   * The ids of a text's tokens, without special tokens, padding or truncation (what `tokenize`
   * gives, as ids; A1111's prompt chunking starts from this).
   */
  encodeText(text: string): number[] {
    const ids: number[] = [];
    for (const word of this.#encodeWords(text)) {
      for (const id of word.ids) ids.push(id);
    }
    return ids;
  }

  /**
   * The ids of text that is already clean (no ftfy, no lower-casing, no split on special tokens):
   * pre-tokenization and BPE only. openai/CLIP's `SimpleTokenizer` is this after its own clean-up.
   */
  encodeCleaned(cleanedText: string): number[] {
    const ids: number[] = [];
    for (const word of pretokenize(cleanedText)) {
      for (const id of this.#encodeWord(word).ids) ids.push(id);
    }
    return ids;
  }

  /**
   * Text → ids the way SD pipelines call the tokenizer: `[BOS] + text ids + [EOS]`, truncated to
   * keep the first `maxLength - 2` text ids and padded with the pad id to `maxLength` (77).
   *
   * @example
   * ```ts
   * tokenizer.encode("a photo of a cat").length; // 77
   * tokenizer.encode("a photo of a cat", { padding: false }); // [49406, 320, 1125, 539, 320, 2368, 49407]
   * ```
   */
  encode(text: string, options: EncodeOptions = {}): number[] {
    return this.encodeBatch([text], options)[0]!;
  }

  /**
   * {@link encode} for several texts; with `padding: "longest"` the rows are padded to the longest
   * one (after truncation).
   */
  encodeBatch(texts: readonly string[], options: EncodeOptions = {}): number[][] {
    const maxLength = options.maxLength ?? this.modelMaxLength;
    const padding = options.padding ?? "max_length";
    const isTruncating = options.truncation ?? true;
    const isAddingSpecial = options.addSpecialTokens ?? true;
    const specialCount = isAddingSpecial ? 2 : 0;
    if (!Number.isInteger(maxLength) || maxLength < specialCount) {
      throw new TokenizerError(`Cannot encode with maxLength ${maxLength}: it must be an integer >= ${specialCount}`);
    }
    const rows = texts.map((text) => {
      let ids = this.encodeText(text);
      if (isTruncating && ids.length > maxLength - specialCount) ids = ids.slice(0, maxLength - specialCount);
      return isAddingSpecial ? [this.bosTokenId, ...ids, this.eosTokenId] : ids;
    });
    if (padding === false) return rows;
    const length = padding === "longest" ? Math.max(0, ...rows.map((row) => row.length)) : maxLength;
    return rows.map((row) => (row.length >= length ? row : [...row, ...new Array<number>(length - row.length).fill(this.padTokenId)]));
  }

  /**
   * Ids → text: the tokens' bytes decoded as UTF-8 (invalid bytes become U+FFFD), each `</w>` read
   * as a space, ends trimmed. Punctuation and digits come back separated by spaces, since BPE keeps
   * no record of how words were joined: `decode(encode("1girl, cat"))` is `"1 girl , cat"`.
   *
   * @example
   * ```ts
   * tokenizer.decode(tokenizer.encode("A photo of a CAT")); // "a photo of a cat"
   * ```
   */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    const isSkipping = options.skipSpecialTokens ?? true;
    const bytes: number[] = [];
    for (const id of ids) {
      const token = this.#idToToken[id];
      if (token === undefined) throw new TokenizerError(`Cannot decode id ${id}: it is not in the vocabulary of ${this.vocabSize} tokens`);
      if (isSkipping && (id === this.bosTokenId || id === this.eosTokenId || id === this.padTokenId)) continue;
      for (const char of token) {
        const byte = UNICODE_TO_BYTE.get(char);
        if (byte === undefined)
          throw new TokenizerError(`Cannot decode token ${JSON.stringify(token)}: ${JSON.stringify(char)} is not a byte character`);
        bytes.push(byte);
      }
    }
    const text = new TextDecoder("utf-8").decode(new Uint8Array(bytes));
    return text.replaceAll(END_OF_WORD, " ").trim();
  }

  /** The id of each token (unknown tokens get `unkTokenId`). */
  convertTokensToIds(tokens: readonly string[]): number[] {
    return tokens.map((token) => this.#vocab.get(token) ?? this.unkTokenId);
  }

  /** The token of each id. */
  convertIdsToTokens(ids: readonly number[]): string[] {
    return ids.map((id) => {
      const token = this.#idToToken[id];
      if (token === undefined) throw new TokenizerError(`Cannot convert id ${id}: it is not in the vocabulary of ${this.vocabSize} tokens`);
      return token;
    });
  }

  /** Special-token split, then clean-up, pre-tokenization and BPE of each piece. */
  #encodeWords(text: string): EncodedWord[] {
    const words: EncodedWord[] = [];
    for (const piece of splitOnSpecialTokens(text, this.#specialTokens)) {
      if (this.#specialTokens.includes(piece)) {
        words.push({ tokens: [piece], ids: [this.#vocab.get(piece)!] });
        continue;
      }
      for (const word of pretokenize(cleanText(piece))) words.push(this.#encodeWord(word));
    }
    return words;
  }

  #encodeWord(word: string): EncodedWord {
    const cached = this.#wordCache.get(word);
    if (cached !== undefined) return cached;
    const tokens = this.#bpe.encode(bytesToUnicode(word));
    const ids = tokens.map((token) => this.#vocab.get(token) ?? this.unkTokenId);
    if (this.#wordCache.size >= WORD_CACHE_LIMIT) this.#wordCache.clear();
    const encoded = { tokens, ids };
    this.#wordCache.set(word, encoded);
    return encoded;
  }

  #requireId(token: string): number {
    const id = this.#vocab.get(token);
    if (id === undefined) throw new TokenizerFileError(`Cannot build a CLIP tokenizer: the vocabulary has no ${token}`);
    return id;
  }
}
