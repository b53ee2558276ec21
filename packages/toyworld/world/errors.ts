/** Why a prompt could not be read: an unknown word, or known words in an order the grammar lacks. */
export class PromptParseError extends Error {
  constructor(
    message: string,
    /** The prompt as given. */
    readonly prompt: string,
    /** Index (in words) of the word that failed; the word count when the prompt ended too early. */
    readonly wordIndex: number,
  ) {
    super(message);
    this.name = "PromptParseError";
  }
}

/** A word that is not in the toy world's vocabulary. */
export class UnknownWordError extends PromptParseError {
  constructor(
    prompt: string,
    wordIndex: number,
    readonly word: string,
  ) {
    super(
      `Cannot parse toy-world prompt ${JSON.stringify(prompt)}: unknown word ${JSON.stringify(word)} at word ${wordIndex + 1}`,
      prompt,
      wordIndex,
    );
    this.name = "UnknownWordError";
  }
}

/** Known words that do not form a prompt of the grammar (or a scene the world cannot draw). */
export class MalformedPromptError extends PromptParseError {
  constructor(
    prompt: string,
    wordIndex: number,
    readonly expected: string,
    readonly found: string | undefined,
  ) {
    super(
      `Cannot parse toy-world prompt ${JSON.stringify(prompt)}: expected ${expected} at word ${wordIndex + 1}, found ${found === undefined ? "the end of the prompt" : JSON.stringify(found)}`,
      prompt,
      wordIndex,
    );
    this.name = "MalformedPromptError";
  }
}
