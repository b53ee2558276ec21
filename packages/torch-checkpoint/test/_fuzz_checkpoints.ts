// Fuzzing the reader with mutations of PyTorch's own checkpoint files (the oracle fixtures):
// raw bytes of the file, bytes of the pickle inside a re-zipped archive (so the CRC does not
// stop the mutation before the pickle machine sees it), and storage records made shorter or
// longer. Every outcome must be a checkpoint whose tensors read at their declared sizes, or a
// TorchCheckpointError; a refused global must be one off the allow-list; and nothing may reach
// eval or the Function constructor.

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { bytesSource } from "../byte_source.ts";
import { TorchCheckpointError } from "../errors.ts";
import { openTorchCheckpointBytes } from "../openers.ts";
import { ALLOWED_GLOBALS } from "../pickle/allowed_globals.ts";
import { ZipArchive } from "../zip/zip_archive.ts";
import { writeZip, type ZipMember } from "./_zip_writer.ts";

const FIXTURES = new URL("./fixtures/oracle/", import.meta.url);

interface Seed {
  name: string;
  bytes: Uint8Array;
  /** The archive's members (empty for the legacy format). */
  members: ZipMember[];
}

async function loadSeeds(): Promise<Seed[]> {
  const names = readdirSync(FIXTURES)
    .filter((name) => /\.(bin|pt|ckpt)$/.test(name))
    .sort();
  const seeds: Seed[] = [];
  for (const name of names) {
    const bytes = new Uint8Array(readFileSync(new URL(name, FIXTURES)));
    const members: ZipMember[] = [];
    if (bytes[0] === 0x50) {
      const archive = await ZipArchive.open(bytesSource(bytes));
      for (const member of archive.names) members.push({ name: member, bytes: await archive.readWhole(archive.entry(member)) });
    }
    seeds.push({ name, bytes, members });
  }
  return seeds;
}

type Mutation =
  | { kind: "flip"; at: number; xor: number }
  | { kind: "set"; at: number; value: number }
  | { kind: "truncate"; at: number }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "delete"; at: number; count: number }
  | { kind: "u32"; at: number; value: number }
  | { kind: "splice"; at: number; snippet: Uint8Array };

const latin1 = (text: string) => Uint8Array.from(text, (char) => char.charCodeAt(0));

/** Pickle fragments worth splicing in: forbidden and allowed globals, calls, memo reads, forged lengths. */
const SNIPPETS = [
  "cposix\nsystem\n",
  "c__builtin__\neval\n",
  "\x8c\x08builtins\x8c\x04exec\x93",
  "ctorch.nn.modules.linear\nLinear\n",
  "ccollections\nOrderedDict\n",
  "ctorch._utils\n_rebuild_tensor_v2\n",
  "ctorch\nFloatStorage\n",
  "c_codecs\nencode\n",
  "cnumpy\ndtype\n",
  "cnumpy.core.multiarray\nscalar\n",
  "ctorch._tensor\n_rebuild_from_type_v2\n",
  "ctorch\nSize\n",
  "ctorch\nfloat16\n",
  "R",
  "b",
  "Q",
  "\x81",
  ")",
  "(",
  "t",
  "N",
  "]",
  "}",
  "s",
  "u",
  "a",
  "e",
  "2",
  "0",
  "1",
  "h\xff",
  "j\xff\xff\xff\xff",
  "q\x00",
  "\x94",
  "\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x80",
  "\x8b\xff\xff\xff\x7f",
  "X\xff\xff\xff\x7f",
  "\x8d\xff\xff\xff\xff\xff\xff\xff\xff",
  "K\xff",
  "J\xff\xff\xff\xff",
  "\x95\xff\xff\xff\xff\x00\x00\x00\x00",
  ".",
  "\x80\x05",
  "\x82\x01",
  "\x97",
  // bombs: deep nesting, exponential sharing, a list in itself, a deeply nested dict key
  "N" + "\x85".repeat(5000),
  "N" + "2\x86".repeat(64),
  "]2a",
  "}N" + "\x85".repeat(5000) + "Ns",
].map(latin1);
const INTERESTING_U32 = [0, 1, 0x7f, 0x80, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff, 46, 22, 30];

// a uniform position in [0, 1): fc.double is uniform over representable doubles, most of them
// near 0, which would mostly hit the zip signature or cut the file to nothing
const at = fc.integer({ min: 0, max: 999_999 }).map((value) => value / 1_000_000);
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at, xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant("set" as const), at, value: fc.constantFrom(0, 1, 0x2e, 0x28, 0x7f, 0x80, 0xff, 0x52, 0x63, 0x68) }),
  fc.record({ kind: fc.constant("truncate" as const), at }),
  fc.record({ kind: fc.constant("insert" as const), at, bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant("delete" as const), at, count: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant("u32" as const), at, value: fc.constantFrom(...INTERESTING_U32) }),
  fc.record({ kind: fc.constant("splice" as const), at, snippet: fc.constantFrom(...SNIPPETS) }),
);

function mutate(bytes: Uint8Array, mutation: Mutation): Uint8Array {
  const position = Math.floor(mutation.at * (bytes.length + 1));
  const index = Math.min(position, Math.max(0, bytes.length - 1));
  switch (mutation.kind) {
    case "flip": {
      const out = bytes.slice();
      if (out.length > 0) out[index] = out[index]! ^ mutation.xor;
      return out;
    }
    case "set": {
      const out = bytes.slice();
      if (out.length > 0) out[index] = mutation.value;
      return out;
    }
    case "truncate":
      return bytes.slice(0, position);
    case "insert":
      return concat(bytes.subarray(0, position), mutation.bytes, bytes.subarray(position));
    case "delete":
      return concat(bytes.subarray(0, position), bytes.subarray(position + mutation.count));
    case "u32": {
      const out = bytes.slice();
      if (index + 4 <= out.length) new DataView(out.buffer).setUint32(index, mutation.value, true);
      return out;
    }
    case "splice":
      return concat(bytes.subarray(0, position), mutation.snippet, bytes.subarray(position));
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

interface FuzzCase {
  seed: number;
  target: "file" | "pickle" | "storage";
  which: number;
  mutations: Mutation[];
}

function buildInput(seeds: Seed[], fuzzCase: FuzzCase): Uint8Array {
  const seed = seeds[fuzzCase.seed % seeds.length]!;
  const apply = (bytes: Uint8Array) => fuzzCase.mutations.reduce(mutate, bytes);
  if (fuzzCase.target === "file" || seed.members.length === 0) return apply(seed.bytes);
  const pattern = fuzzCase.target === "pickle" ? /data\.pkl$/ : /\/data\/[^/]+$/;
  const candidates = seed.members.filter((member) => pattern.test(member.name));
  if (candidates.length === 0) return apply(seed.bytes);
  const chosen = candidates[fuzzCase.which % candidates.length]!;
  return writeZip(seed.members.map((member) => (member === chosen ? { ...member, bytes: apply(member.bytes) } : member)));
}

/** Tallies of what the mutated files did. */
export interface FuzzTally {
  cases: number;
  loaded: number;
  refusedByCode: Record<string, number>;
  /** Outcomes ("loaded" or an error code) by what was mutated: the whole file, the pickle, a storage record. */
  byTarget: Record<string, Record<string, number>>;
}

const READ_LIMIT = 4 << 20;

function count(tally: FuzzTally, target: string, outcome: string): void {
  const row = (tally.byTarget[target] ??= {});
  row[outcome] = (row[outcome] ?? 0) + 1;
}

async function check(input: Uint8Array, target: string, tally: FuzzTally): Promise<void> {
  tally.cases++;
  try {
    const checkpoint = await openTorchCheckpointBytes(input, { maxExpandedByteLength: 1 << 20 });
    for (const name of checkpoint.names) {
      const { byteLength } = checkpoint.info(name);
      if (byteLength > READ_LIMIT) continue;
      try {
        const tensor = await checkpoint.tensor(name);
        assert.equal(tensor.data.length, byteLength, name);
      } catch (error) {
        assert.ok(error instanceof TorchCheckpointError, `reading "${name}" threw ${String(error)}`);
      }
    }
    for (const value of checkpoint.values.values()) {
      const isPlain = value === null || ["boolean", "number", "bigint", "string"].includes(typeof value) || value instanceof Uint8Array;
      assert.ok(isPlain, `a value of type ${typeof value}`);
    }
    await checkpoint.close();
    tally.loaded++;
    count(tally, target, "loaded");
  } catch (error) {
    if (!(error instanceof TorchCheckpointError)) throw error;
    tally.refusedByCode[error.code] = (tally.refusedByCode[error.code] ?? 0) + 1;
    count(tally, target, error.code);
    if (error.code === "forbidden_global")
      assert.ok(!ALLOWED_GLOBALS.has(error.globalName ?? ""), `refused an allowed global ${error.globalName}`);
  }
}

/** Counts calls of eval and the Function constructor while `body` runs. */
async function trapCodeExecution<T>(body: () => Promise<T>): Promise<{ result: T; calls: number }> {
  // biome-ignore lint/security/noGlobalEval: the trap replaces eval to count calls; it never evaluates
  const originalEval = globalThis.eval;
  const originalFunction = globalThis.Function;
  let calls = 0;
  globalThis.eval = ((code: string) => {
    calls++;
    return originalEval(code);
  }) as typeof eval;
  globalThis.Function = new Proxy(originalFunction, {
    apply(target, self, args) {
      calls++;
      return Reflect.apply(target, self, args);
    },
    construct(target, args) {
      calls++;
      return Reflect.construct(target, args);
    },
  });
  try {
    return { result: await body(), calls };
  } finally {
    globalThis.eval = originalEval;
    globalThis.Function = originalFunction;
  }
}

/** Runs `numRuns` mutated checkpoints (fast-check, reproducible by its printed seed) and returns the tally. */
export async function fuzzCheckpoints(numRuns: number, seed?: number): Promise<FuzzTally> {
  const seeds = await loadSeeds();
  const tally: FuzzTally = { cases: 0, loaded: 0, refusedByCode: {}, byTarget: {} };
  const caseArb = fc.record({
    seed: fc.nat(seeds.length - 1),
    target: fc.constantFrom("file" as const, "pickle" as const, "pickle" as const, "storage" as const),
    which: fc.nat(),
    mutations: fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
  });
  const { calls } = await trapCodeExecution(() =>
    fc.assert(
      fc.asyncProperty(caseArb, (fuzzCase) => check(buildInput(seeds, fuzzCase), fuzzCase.target, tally)),
      { numRuns, seed, endOnFailure: true },
    ),
  );
  assert.equal(calls, 0, "the reader reached eval or the Function constructor");
  return tally;
}
