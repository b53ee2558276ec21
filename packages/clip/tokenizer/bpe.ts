/**
 * Byte-pair encoding of one pre-token, CLIP style: the last symbol carries the end-of-word marker
 * `</w>`, and the adjacent pair with the lowest merge rank is merged until no pair has a rank.
 *
 * @module
 */

/** The end-of-word suffix of the last symbol of every word. */
export const END_OF_WORD = "</w>";

/** The key of a merge pair in the rank table. Symbols never contain a space. */
function pairKey(first: string, second: string): string {
  return `${first} ${second}`;
}

/** One merge rule of a BPE vocabulary: `first` followed by `second` becomes `first + second`. */
export type Merge = readonly [first: string, second: string];

/** Merges one word by merge rank, with a cache of the words seen so far. */
export class BytePairEncoder {
  readonly #ranks: Map<string, number>;
  readonly #fixedWords: Map<string, readonly string[]>;
  readonly #cache = new Map<string, readonly string[]>();
  readonly #cacheLimit: number;

  /**
   * @param merges the merge rules, highest priority first (rank = index).
   * @param fixedWords words that encode to themselves (CLIP's special tokens, without `</w>`).
   * @param cacheLimit the cache is emptied when it grows past this many words.
   */
  constructor(merges: readonly Merge[], fixedWords: readonly string[] = [], cacheLimit = 200_000) {
    // As Python's dict(zip(merges, range(n))): a repeated merge keeps its last rank.
    this.#ranks = new Map(merges.map(([first, second], rank) => [pairKey(first, second), rank]));
    this.#cacheLimit = cacheLimit;
    this.#fixedWords = new Map(fixedWords.map((word) => [word, [word]]));
  }

  /** The merge rank of a pair, or undefined when the pair never merges. */
  rank(first: string, second: string): number | undefined {
    return this.#ranks.get(pairKey(first, second));
  }

  /**
   * The BPE symbols of one word (a string of byte characters), the last one ending in `</w>`.
   *
   * @example
   * ```ts
   * const bpe = new BytePairEncoder([["c", "a"], ["ca", "t</w>"]]);
   * bpe.encode("cat"); // ["cat</w>"]
   * bpe.encode("cab"); // ["ca", "b</w>"]
   * ```
   */
  encode(word: string): readonly string[] {
    const fixed = this.#fixedWords.get(word);
    if (fixed !== undefined) return fixed;
    const cached = this.#cache.get(word);
    if (cached !== undefined) return cached;
    const symbols = this.#merge(word);
    if (this.#cache.size >= this.#cacheLimit) this.#cache.clear();
    this.#cache.set(word, symbols);
    return symbols;
  }

  #merge(word: string): string[] {
    let symbols = [...word.slice(0, -1), word.slice(-1) + END_OF_WORD];
    while (symbols.length > 1) {
      const best = this.#lowestRankedPair(symbols);
      if (best === null) break;
      symbols = mergePair(symbols, best[0], best[1]);
    }
    return symbols;
  }

  #lowestRankedPair(symbols: readonly string[]): Merge | null {
    let bestRank = Infinity;
    let best: Merge | null = null;
    for (let index = 0; index + 1 < symbols.length; index += 1) {
      const rank = this.#ranks.get(pairKey(symbols[index]!, symbols[index + 1]!));
      if (rank !== undefined && rank < bestRank) {
        bestRank = rank;
        best = [symbols[index]!, symbols[index + 1]!];
      }
    }
    return best;
  }
}

/** Replaces every occurrence of `first, second`, scanning left to right, by their concatenation. */
function mergePair(symbols: readonly string[], first: string, second: string): string[] {
  const merged: string[] = [];
  let index = 0;
  while (index < symbols.length) {
    if (index + 1 < symbols.length && symbols[index] === first && symbols[index + 1] === second) {
      merged.push(first + second);
      index += 2;
    } else {
      merged.push(symbols[index]!);
      index += 1;
    }
  }
  return merged;
}
