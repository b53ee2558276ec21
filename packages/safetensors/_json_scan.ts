// Finds duplicate object keys in JSON text. JSON.parse keeps the last of two equal keys without a
// word, so a header could name one tensor twice and we would silently read only one of them.
// This scanner runs after JSON.parse has accepted the text, so it may assume the text is valid
// JSON; it keeps an explicit stack (no recursion), so deeply nested input cannot overflow it.

/** A key that occurs twice in one JSON object. */
export interface DuplicateKey {
  /** The repeated key, decoded. */
  key: string;
  /** The keys leading to the object holding it; empty for the top-level object. */
  path: string[];
}

interface Frame {
  isObject: boolean;
  keys: Set<string>;
  isExpectingKey: boolean;
  /** The key under which this container sits in its parent object, if any. */
  keyInParent: string | undefined;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Index of the closing quote of the string whose opening quote is at `start`. */
function endOfString(text: string, start: number): number {
  let index = start + 1;
  while (index < text.length) {
    const code = text.charCodeAt(index);
    if (code === BACKSLASH) {
      index += 2;
      continue;
    }
    if (code === QUOTE) return index;
    index += 1;
  }
  return text.length;
}

function decodeKey(raw: string): string {
  // Only keys with escapes need decoding; `"a"` and `"\u0061"` are the same key.
  if (!raw.includes("\\")) return raw.slice(1, -1);
  return JSON.parse(raw) as string;
}

function pathOf(stack: Frame[]): string[] {
  const path: string[] = [];
  for (const frame of stack) {
    if (frame.keyInParent !== undefined) path.push(frame.keyInParent);
  }
  return path;
}

/**
 * Returns the first key that occurs twice in the same object of valid JSON text, or undefined.
 *
 * @example
 * ```ts
 * findDuplicateKey('{"a": 1, "b": {"c": 2, "c": 3}}'); // { key: "c", path: ["b"] }
 * ```
 */
export function findDuplicateKey(text: string): DuplicateKey | undefined {
  const stack: Frame[] = [];
  let lastKey: string | undefined;
  let index = 0;
  while (index < text.length) {
    const char = text[index];
    const top = stack[stack.length - 1];
    if (char === '"') {
      const end = endOfString(text, index);
      if (top !== undefined && top.isObject && top.isExpectingKey) {
        const key = decodeKey(text.slice(index, end + 1));
        if (top.keys.has(key)) return { key, path: pathOf(stack) };
        top.keys.add(key);
        top.isExpectingKey = false;
        lastKey = key;
      }
      index = end + 1;
      continue;
    }
    if (char === "{" || char === "[") {
      const isInObject = top !== undefined && top.isObject;
      stack.push({
        isObject: char === "{",
        keys: new Set(),
        isExpectingKey: char === "{",
        keyInParent: isInObject ? lastKey : undefined,
      });
    } else if (char === "}" || char === "]") {
      stack.pop();
    } else if (char === "," && top !== undefined && top.isObject) {
      top.isExpectingKey = true;
    }
    index += 1;
  }
  return undefined;
}
