// Fuzzing: valid files, mutated at random (bytes flipped, cut, extended, length field forged,
// header text and entries edited), must either parse or fail with a SafetensorsError; nothing
// else may escape, and the lazy reader must reach the same verdict as the in-memory parser.

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { dtypeByteSize } from "../dtype.ts";
import { SafetensorsError } from "../errors.ts";
import { parseSafetensors, type ParsedSafetensors } from "../parse.ts";
import { openSafetensors } from "../reader.ts";
import { toFloat32Array } from "../to_float32.ts";
import { typedArrayOf } from "../typed_array.ts";
import { fileArb, textArb } from "./_arbitraries.ts";
import { fileWithHeader, fileWithHeaderBytes } from "./_build.ts";
import { memorySource } from "./_memory_source.ts";

type Mutation =
  | { kind: "flip"; at: number; xor: number }
  | { kind: "truncate"; at: number }
  | { kind: "append"; bytes: Uint8Array }
  | { kind: "length"; value: bigint }
  | { kind: "lengthDelta"; delta: number }
  | { kind: "text"; at: number; deleteCount: number; insert: string }
  | { kind: "field"; which: number; field: string; value: unknown }
  | { kind: "duplicate"; which: number }
  | { kind: "shift"; which: number; delta: number }
  | { kind: "reshape"; which: number; delta: number };

const INTERESTING_VALUES: unknown[] = [
  -1,
  0,
  1,
  1.5,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  1e308,
  "F32",
  "F16",
  "X",
  "",
  null,
  true,
  [],
  {},
  [0],
  [0, 0],
  [1, 0],
  [0, 1],
  [2 ** 32, 2 ** 32 + 4],
  [-1, 4],
  [0, 2 ** 53],
  [2, 3],
  [1, 1, 1],
  ["1"],
  [[1]],
  { dtype: "U8" },
];
const SNIPPETS = [
  "",
  "{",
  "}",
  "[",
  "]",
  ",",
  ":",
  '"',
  "\\",
  "-1",
  "1e400",
  "0",
  "null",
  '"dtype"',
  '"__metadata__"',
  "\u0000",
  "é",
  "\ud800",
  " ",
];

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.double({ min: 0, max: 1, noNaN: true }), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.double({ min: 0.5, max: 1, noNaN: true }) }),
  fc.record({ kind: fc.constant("append" as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 9 }) }),
  fc.record({ kind: fc.constant("length" as const), value: fc.oneof(fc.bigInt(0n, 2n ** 64n - 1n), fc.bigInt(0n, 4096n)) }),
  fc.record({ kind: fc.constant("lengthDelta" as const), delta: fc.integer({ min: -16, max: 16 }) }),
  fc.record({
    kind: fc.constant("text" as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    deleteCount: fc.integer({ min: 0, max: 4 }),
    insert: fc.oneof(fc.constantFrom(...SNIPPETS), fc.string({ maxLength: 4 })),
  }),
  fc.record({
    kind: fc.constant("field" as const),
    which: fc.nat(),
    field: fc.constantFrom("dtype", "shape", "data_offsets", "", "extra"),
    value: fc.oneof(fc.constantFrom(...INTERESTING_VALUES), fc.jsonValue({ maxDepth: 2 })),
  }),
  fc.record({ kind: fc.constant("duplicate" as const), which: fc.nat() }),
  fc.record({ kind: fc.constant("shift" as const), which: fc.nat(), delta: fc.integer({ min: -8, max: 8 }) }),
  fc.record({ kind: fc.constant("reshape" as const), which: fc.nat(), delta: fc.integer({ min: -2, max: 2 }) }),
);

/** The header length field, if it points inside the file. */
function headerLength(file: Uint8Array): number | undefined {
  if (file.length < 8) return undefined;
  const view = new DataView(file.buffer, file.byteOffset, 8);
  if (view.getUint32(4, true) !== 0) return undefined;
  const length = view.getUint32(0, true);
  return 8 + length <= file.length ? length : undefined;
}

/** Rewrites the header text with `edit`, keeping the data and fixing the length field. */
function editHeader(file: Uint8Array, edit: (text: string) => string | undefined): Uint8Array {
  const length = headerLength(file);
  if (length === undefined) return file;
  const text = new TextDecoder().decode(file.subarray(8, 8 + length));
  const edited = edit(text);
  if (edited === undefined) return file;
  return fileWithHeader(edited, file.slice(8 + length));
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function editEntry(text: string, which: number, field: string, value: unknown): string | undefined {
  const header = parseObject(text);
  if (header === undefined) return undefined;
  const names = Object.keys(header);
  if (names.length === 0) return JSON.stringify({ [field || "t"]: value });
  const name = names[which % names.length]!;
  const target = header[name];
  if (field === "" || typeof target !== "object" || target === null) header[name] = value;
  else (target as Record<string, unknown>)[field] = value;
  return JSON.stringify(header);
}

/** Changes every number of one array field of one tensor entry by `delta`. */
function nudgeEntry(text: string, which: number, field: "data_offsets" | "shape", delta: number): string | undefined {
  const header = parseObject(text);
  if (header === undefined) return undefined;
  const names = Object.keys(header).filter((name) => name !== "__metadata__");
  if (names.length === 0) return undefined;
  const target = header[names[which % names.length]!] as Record<string, unknown> | null;
  const values = target?.[field];
  if (!Array.isArray(values)) return undefined;
  target![field] = values.map((value: unknown) => (typeof value === "number" ? value + delta : value));
  return JSON.stringify(header);
}

function duplicateEntry(text: string, which: number): string | undefined {
  const header = parseObject(text);
  if (header === undefined) return undefined;
  const pairs = Object.entries(header).map(([name, value]) => `${JSON.stringify(name)}:${JSON.stringify(value)}`);
  if (pairs.length === 0) return undefined;
  pairs.push(pairs[which % pairs.length]!);
  return `{${pairs.join(",")}}`;
}

function mutate(file: Uint8Array, mutation: Mutation): Uint8Array {
  const position = (at: number) => Math.min(file.length - 1, Math.floor(at * file.length));
  switch (mutation.kind) {
    case "flip": {
      if (file.length === 0) return file;
      const copy = file.slice();
      copy[position(mutation.at)]! ^= mutation.xor;
      return copy;
    }
    case "truncate":
      return file.slice(0, Math.floor(mutation.at * file.length));
    case "append":
      return new Uint8Array([...file, ...mutation.bytes]);
    case "length": {
      if (file.length < 8) return file;
      const copy = file.slice();
      new DataView(copy.buffer).setBigUint64(0, mutation.value, true);
      return copy;
    }
    case "lengthDelta": {
      const length = headerLength(file);
      if (length === undefined) return file;
      return fileWithHeaderBytes(file.slice(8), 0, BigInt(Math.max(0, length + mutation.delta)));
    }
    case "text":
      return editHeader(file, (text) => {
        const at = Math.floor(mutation.at * text.length);
        return text.slice(0, at) + mutation.insert + text.slice(at + mutation.deleteCount);
      });
    case "field":
      return editHeader(file, (text) => editEntry(text, mutation.which, mutation.field, mutation.value));
    case "duplicate":
      return editHeader(file, (text) => duplicateEntry(text, mutation.which));
    case "shift":
      // Moves a byte range, keeping its size: holes, overlaps, ranges past the end.
      return editHeader(file, (text) => nudgeEntry(text, mutation.which, "data_offsets", mutation.delta));
    case "reshape":
      // Changes every dimension: the range no longer matches the shape.
      return editHeader(file, (text) => nudgeEntry(text, mutation.which, "shape", mutation.delta));
  }
}

/** Parses, asserting that only a SafetensorsError can be thrown; returns the result or the error code. */
function parseOrCode(bytes: Uint8Array): ParsedSafetensors | string {
  try {
    return parseSafetensors(bytes);
  } catch (error) {
    assert.ok(error instanceof SafetensorsError, `escaped: ${String(error)}`);
    assert.match(error.message, /^Cannot [a-z]+ [^:]+: ./);
    return error.code;
  }
}

/** What every successful parse guarantees about its tensors. */
function checkParsed(bytes: Uint8Array, parsed: ParsedSafetensors): void {
  for (const [name, tensor] of parsed.tensors) {
    const count = tensor.shape.reduce((product, dim) => product * dim, 1);
    assert.equal(tensor.data.byteLength, count * dtypeByteSize(tensor.dtype), name);
    assert.equal(tensor.data.buffer, bytes.buffer);
    assert.ok(
      tensor.data.byteOffset >= bytes.byteOffset + 8 && tensor.data.byteOffset + tensor.data.byteLength <= bytes.byteOffset + bytes.length,
    );
    assert.equal(typedArrayOf(tensor).length, count);
    assert.equal(toFloat32Array(tensor).length, count);
  }
}

async function checkLazyReaderAgrees(bytes: Uint8Array, outcome: ParsedSafetensors | string, prefetchByteLength: number): Promise<void> {
  try {
    const reader = await openSafetensors(memorySource(bytes), { prefetchByteLength });
    assert.ok(typeof outcome !== "string", `lazy reader accepted a file the parser rejected with ${String(outcome)}`);
    assert.deepEqual(await reader.readAll(), outcome.tensors);
  } catch (error) {
    if (error instanceof assert.AssertionError) throw error;
    assert.ok(error instanceof SafetensorsError, `escaped: ${String(error)}`);
    assert.equal(error.code, outcome, error.message);
  }
}

test("mutated files parse or throw SafetensorsError, and the lazy reader agrees", async () => {
  const codes = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(
      fileArb,
      fc.array(mutationArb, { minLength: 1, maxLength: 3 }),
      fc.integer({ min: 8, max: 300 }),
      async (file, mutations, prefetch) => {
        const bytes = mutations.reduce(mutate, file);
        const outcome = parseOrCode(bytes);
        const code = typeof outcome === "string" ? outcome : "ok";
        codes.set(code, (codes.get(code) ?? 0) + 1);
        if (typeof outcome !== "string") checkParsed(bytes, outcome);
        await checkLazyReaderAgrees(bytes, outcome, prefetch);
      },
    ),
    { numRuns: Number(process.env.FUZZ_RUNS ?? 1500) },
  );
  if (process.env.FUZZ_RUNS !== undefined) console.log(JSON.stringify([...codes]));
  // The mutations reach the validation rules, not only the JSON parser. Each of these codes shows
  // up more than 10 times in a typical run of 1500, so the check does not flake.
  for (const code of [
    "ok",
    "invalid_json",
    "size_mismatch",
    "invalid_shape",
    "invalid_offsets",
    "unknown_dtype",
    "overlap",
    "hole",
    "offsets_out_of_bounds",
    "incomplete_buffer",
    "duplicate_name",
    "header_too_large",
  ]) {
    assert.ok((codes.get(code) ?? 0) > 0, `no mutated file gave ${code}: ${JSON.stringify([...codes])}`);
  }
});

test("random bytes and random header texts parse or throw SafetensorsError", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const outcome = parseOrCode(bytes);
      if (typeof outcome !== "string") checkParsed(bytes, outcome);
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.oneof(fc.json({ maxDepth: 3 }), textArb(40)), fc.integer({ min: 0, max: 64 }), (text, dataLength) => {
      const bytes = fileWithHeader(text, dataLength);
      const outcome = parseOrCode(bytes);
      if (typeof outcome !== "string") checkParsed(bytes, outcome);
    }),
    { numRuns: 500 },
  );
});

test("a deeply nested header is rejected without overflowing the stack", () => {
  const depth = 100_000;
  const outcome = parseOrCode(fileWithHeader(`{"a":${"[".repeat(depth)}${"]".repeat(depth)}}`));
  assert.equal(outcome, "invalid_json"); // deeper than serde_json's 128 levels, refused before JSON.parse
});
