import { MalformedPromptError, UnknownWordError } from "./errors.ts";
import type { Scene, SceneObject } from "./scene.ts";
import {
  BACKGROUND_NAMES,
  type Background,
  COLOUR_NAMES,
  type Colour,
  POSITION_NAMES,
  type Position,
  RELATION_NAMES,
  type Relation,
  type Shape,
  SHAPES,
  SIZE_NAMES,
  type Size,
} from "./vocabulary.ts";

/** Every word the grammar uses; anything else is an UnknownWordError. */
const VOCABULARY: ReadonlySet<string> = new Set([
  "a",
  "an",
  "on",
  "the",
  "at",
  "in",
  "of",
  "background",
  ...SIZE_NAMES,
  ...COLOUR_NAMES,
  ...SHAPES,
  ...BACKGROUND_NAMES,
  ...[...POSITION_NAMES, ...RELATION_NAMES].flatMap((phrase) => phrase.split(" ")),
]);

/**
 * Reads a prompt of the toy world's grammar (see `formatPrompt`) into its scene. Case and runs of
 * whitespace do not matter; "an" is accepted for "a". Every word is checked against the vocabulary
 * first (UnknownWordError), then the order (MalformedPromptError names what was expected).
 *
 * @example
 * ```ts
 * parsePrompt("a small red circle on the left on a white background").kind; // "single"
 * parsePrompt("a small pink circle on the left on a white background"); // throws UnknownWordError ("pink")
 * parsePrompt("a small red on the left on a white background"); // throws MalformedPromptError (expected a shape)
 * ```
 */
export function parsePrompt(prompt: string): Scene {
  if (typeof prompt !== "string") throw new TypeError(`Cannot parse toy-world prompt: expected a string, got ${typeof prompt}`);
  const words = prompt
    .trim()
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w.length > 0);
  words.forEach((word, i) => {
    if (!VOCABULARY.has(word)) throw new UnknownWordError(prompt, i, word);
  });
  const reader = new WordReader(prompt, words);
  const first = reader.object();
  const position = reader.phrase(POSITION_NAMES);
  if (position !== undefined) {
    const background = reader.background();
    reader.end();
    return { kind: "single", object: first, position: position as Position, background };
  }
  const relationAt = reader.index;
  const relation = reader.phrase(RELATION_NAMES);
  if (relation === undefined) reader.fail("a position (on the left, …, in the center) or a relation (left of, right of, above, below)");
  const second = reader.object();
  if (second.colour === first.colour) {
    throw new MalformedPromptError(
      prompt,
      relationAt + 3,
      `a colour other than ${first.colour} (the two objects of a pair differ in colour)`,
      second.colour,
    );
  }
  const background = reader.background();
  reader.end();
  return { kind: "pair", first, relation: relation as Relation, second, background };
}

/** A cursor over the prompt's words with one method per grammar rule. */
class WordReader {
  index = 0;
  constructor(
    readonly prompt: string,
    readonly words: string[],
  ) {}

  fail(expected: string): never {
    throw new MalformedPromptError(this.prompt, this.index, expected, this.words[this.index]);
  }

  word<T extends string>(allowed: readonly T[], expected: string): T {
    const word = this.words[this.index];
    if (word === undefined || !(allowed as readonly string[]).includes(word)) this.fail(expected);
    this.index++;
    return word as T;
  }

  /** The longest phrase of `phrases` that starts here, or undefined (the cursor does not move). */
  phrase(phrases: readonly string[]): string | undefined {
    for (const phrase of phrases) {
      const parts = phrase.split(" ");
      if (parts.every((part, k) => this.words[this.index + k] === part)) {
        this.index += parts.length;
        return phrase;
      }
    }
    return undefined;
  }

  object(): SceneObject {
    this.word(["a", "an"], `"a"`);
    const size = this.word<Size>(SIZE_NAMES, `a size (${SIZE_NAMES.join(", ")})`);
    const colour = this.word<Colour>(COLOUR_NAMES, `a colour (${COLOUR_NAMES.join(", ")})`);
    const shape = this.word<Shape>(SHAPES, `a shape (${SHAPES.join(", ")})`);
    return { size, colour, shape };
  }

  background(): Background {
    this.word(["on"], `"on a … background"`);
    this.word(["a"], `"a"`);
    const background = this.word<Background>(BACKGROUND_NAMES, `a background colour (${BACKGROUND_NAMES.join(", ")})`);
    this.word(["background"], `"background"`);
    return background;
  }

  end(): void {
    if (this.index < this.words.length) this.fail("the end of the prompt");
  }
}
