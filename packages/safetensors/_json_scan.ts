// Scans of JSON text that JSON.parse cannot do for us, each in one pass with an explicit stack (no
// recursion, so deeply nested input cannot overflow it):
// - the nesting depth, checked before JSON.parse, which would otherwise build a million nested
//   arrays (a 50 MB header of brackets exhausted the heap);
// - keys that occur twice in one object (JSON.parse keeps the last without a word, so a header
//   could name one tensor twice and we would silently read only one of them);
// - how numbers are written (JSON.parse reads `2.0`, `1e0` and `-0` as integers, which the
//   reference implementation, parsing into unsigned integers, rejects).
// The last two run after JSON.parse has accepted the text and the depth check has bounded it.

/** The deepest nesting of arrays and objects accepted: serde_json's recursion limit, which the reference uses. */
export const MAX_JSON_DEPTH = 128;

/** A key that occurs twice in one JSON object. */
export interface DuplicateKey {
  /** The repeated key, decoded. */
  key: string;
  /** The keys leading to the object holding it; empty for the top-level object. */
  path: string[];
}

/** A number in an array of counts that is not written as digits only. */
export interface NonDigitCount {
  /** The key of the object holding the array (the tensor name). */
  entry: string;
  /** The key of the array in that object (`shape`, `data_offsets`). */
  field: string;
  /** The number as written. */
  literal: string;
  /** The array as written, up to its first `]`. */
  arrayText: string;
}

interface Frame {
  isObject: boolean;
  /** Keys seen so far (made on the first key: most containers of a header are arrays). */
  keys: Set<string> | undefined;
  isExpectingKey: boolean;
  /** The key under which this container sits in its parent object, if any. */
  keyInParent: string | undefined;
  /** Where the container opens in the text. */
  start: number;
}

/** What a walk reports; returning true stops it. */
interface Visitor {
  key?(stack: readonly Frame[], key: string): boolean;
  number?(stack: readonly Frame[], literal: string): boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NUMBER_CHAR = /[-+.0-9eE]/;
const DIGITS_ONLY = /^(0|[1-9][0-9]*)$/;

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

function pathOf(stack: readonly Frame[]): string[] {
  const path: string[] = [];
  for (const frame of stack) {
    if (frame.keyInParent !== undefined) path.push(frame.keyInParent);
  }
  return path;
}

/**
 * The depth of the first array or object nested deeper than `limit` levels (that is, `limit + 1`),
 * or undefined when none is. Counts brackets outside strings, in constant memory.
 *
 * @example
 * ```ts
 * depthBeyond('{"a":[[1]]}', 2); // 3
 * depthBeyond('{"a":"[[[["}', 2); // undefined
 * ```
 */
export function depthBeyond(text: string, limit: number): number | undefined {
  let depth = 0;
  let index = 0;
  while (index < text.length) {
    const char = text[index];
    if (char === '"') {
      index = endOfString(text, index) + 1;
      continue;
    }
    if (char === "{" || char === "[") {
      depth += 1;
      if (depth > limit) return depth;
    } else if (char === "}" || char === "]") {
      depth -= 1;
    }
    index += 1;
  }
  return undefined;
}

/** Walks valid JSON text, telling `visitor` of each object key and each number. */
function walk(text: string, visitor: Visitor): void {
  const stack: Frame[] = [];
  let lastKey: string | undefined;
  let index = 0;
  while (index < text.length) {
    const char = text[index]!;
    const top = stack[stack.length - 1];
    if (char === '"') {
      const end = endOfString(text, index);
      if (top !== undefined && top.isObject && top.isExpectingKey) {
        const key = decodeKey(text.slice(index, end + 1));
        if (visitor.key?.(stack, key)) return;
        top.isExpectingKey = false;
        lastKey = key;
      }
      index = end + 1;
      continue;
    }
    if (char === "-" || (char >= "0" && char <= "9")) {
      let end = index + 1;
      while (end < text.length && NUMBER_CHAR.test(text[end]!)) end += 1;
      if (visitor.number?.(stack, text.slice(index, end))) return;
      index = end;
      continue;
    }
    if (char === "{" || char === "[") {
      const isInObject = top !== undefined && top.isObject;
      stack.push({
        isObject: char === "{",
        keys: undefined,
        isExpectingKey: char === "{",
        keyInParent: isInObject ? lastKey : undefined,
        start: index,
      });
    } else if (char === "}" || char === "]") {
      stack.pop();
    } else if (char === "," && top !== undefined && top.isObject) {
      top.isExpectingKey = true;
    }
    index += 1;
  }
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
  let found: DuplicateKey | undefined;
  walk(text, {
    key(stack, key) {
      const top = stack[stack.length - 1]!;
      top.keys ??= new Set();
      if (top.keys.has(key)) {
        found = { key, path: pathOf(stack) };
        return true;
      }
      top.keys.add(key);
      return false;
    },
  });
  return found;
}

/**
 * Returns the first number of an array `fields` names, in an object directly under the top-level
 * object (a header's `{"w": {"shape": [2.0]}}`), that is not written as digits only, or undefined.
 *
 * @example
 * ```ts
 * findNonDigitCount('{"w":{"shape":[1e0]}}', ["shape"]); // { entry: "w", field: "shape", literal: "1e0", arrayText: "[1e0]" }
 * ```
 */
export function findNonDigitCount(text: string, fields: readonly string[]): NonDigitCount | undefined {
  let found: NonDigitCount | undefined;
  walk(text, {
    number(stack, literal) {
      if (stack.length !== 3 || DIGITS_ONLY.test(literal)) return false;
      const [, entry, array] = stack as [Frame, Frame, Frame];
      if (array.isObject || entry.keyInParent === undefined || array.keyInParent === undefined) return false;
      if (!fields.includes(array.keyInParent)) return false;
      const close = text.indexOf("]", array.start);
      found = { entry: entry.keyInParent, field: array.keyInParent, literal, arrayText: text.slice(array.start, close + 1) };
      return true;
    },
  });
  return found;
}
