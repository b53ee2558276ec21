/**
 * Prompt files for `spo train`: a JSON list of `{ "caption": … }` objects (SPO's
 * 4k_training_prompts.json) or of strings, or plain text with one prompt per line.
 *
 * @module
 */

/** Thrown for a prompt file that holds no usable prompt. */
export class PromptFileError extends Error {
  override name = "PromptFileError";
}

/**
 * The prompts of a prompt file's text.
 *
 * @example
 * ```ts
 * parsePromptFile('[{"caption": "a cat", "trainset_idx": 3}]'); // ["a cat"]
 * parsePromptFile("a cat\n\na dog\n");                          // ["a cat", "a dog"]
 * ```
 */
export function parsePromptFile(text: string, name = "the prompt file"): string[] {
  const trimmed = text.trim();
  if (trimmed === "") throw new PromptFileError(`Cannot read prompts: ${name} is empty`);
  let prompts: string[];
  if (trimmed.startsWith("[")) {
    let list: unknown;
    try {
      list = JSON.parse(trimmed);
    } catch (error) {
      throw new PromptFileError(`Cannot read prompts: ${name} starts like a JSON list but does not parse (${(error as Error).message})`);
    }
    if (!Array.isArray(list)) throw new PromptFileError(`Cannot read prompts: ${name} is not a JSON list`);
    prompts = list.map((item, i) => {
      if (typeof item === "string") return item;
      if (item !== null && typeof item === "object" && typeof (item as { caption?: unknown }).caption === "string")
        return (item as { caption: string }).caption;
      throw new PromptFileError(
        `Cannot read prompts: item ${i} of ${name} is ${JSON.stringify(item)}, expected a string or {"caption": "…"}`,
      );
    });
  } else {
    prompts = trimmed
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== "");
  }
  if (prompts.length === 0) throw new PromptFileError(`Cannot read prompts: ${name} holds none`);
  return prompts;
}
