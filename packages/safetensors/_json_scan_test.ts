import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { depthBeyond, findDuplicateKey, findNonDigitCount } from "./_json_scan.ts";

test("findDuplicateKey() finds nothing in objects with distinct keys", () => {
  assert.equal(findDuplicateKey('{"a":1,"b":{"a":2,"c":[{"a":3},{"a":4}]},"c":"a"}'), undefined);
  assert.equal(findDuplicateKey("[1,2,3]"), undefined);
  assert.equal(findDuplicateKey('"just a string"'), undefined);
});

test("findDuplicateKey() finds a repeated key at the top level and in nested objects, with its path", () => {
  assert.deepEqual(findDuplicateKey('{"a":1,"a":2}'), { key: "a", path: [] });
  assert.deepEqual(findDuplicateKey('{"a":{"x":1,"y":{"z":1,"z":2}}}'), { key: "z", path: ["a", "y"] });
  assert.deepEqual(findDuplicateKey('{"a":[{"k":1,"k":2}]}'), { key: "k", path: ["a"] });
});

test("findDuplicateKey() compares keys after decoding escapes", () => {
  assert.deepEqual(findDuplicateKey('{"\\u0061":1,"a":2}'), { key: "a", path: [] });
  assert.deepEqual(findDuplicateKey('{"\\"":1,"\\u0022":2}'), { key: '"', path: [] });
  assert.equal(findDuplicateKey('{"a\\\\":1,"a":2}'), undefined);
});

test("findDuplicateKey() is not fooled by braces, commas and quotes inside strings", () => {
  assert.equal(findDuplicateKey('{"a":"{\\"a\\":1,","b":"}, \\"a\\":"}'), undefined);
  assert.deepEqual(findDuplicateKey('{"a":"x,\\"a\\":","a":1}'), { key: "a", path: [] });
});

test("findDuplicateKey() handles nesting deeper than the call stack allows recursion", () => {
  const depth = 200_000;
  const text = `${"[".repeat(depth)}{"a":1,"a":2}${"]".repeat(depth)}`;
  assert.deepEqual(findDuplicateKey(text), { key: "a", path: [] });
});

// A JSON tree whose objects are lists of (key, value) pairs, so it can hold repeated keys.
type Tree = { kind: "leaf"; value: unknown } | { kind: "array"; items: Tree[] } | { kind: "object"; pairs: [string, Tree][] };

function render(tree: Tree): string {
  if (tree.kind === "leaf") return JSON.stringify(tree.value);
  if (tree.kind === "array") return `[${tree.items.map(render).join(",")}]`;
  return `{${tree.pairs.map(([key, value]) => `${key}:${render(value)}`).join(",")}}`;
}

function hasRepeatedKey(tree: Tree): boolean {
  if (tree.kind === "leaf") return false;
  if (tree.kind === "array") return tree.items.some(hasRepeatedKey);
  const keys = tree.pairs.map(([key]) => JSON.parse(key) as string);
  return new Set(keys).size !== keys.length || tree.pairs.some(([, value]) => hasRepeatedKey(value));
}

test("findDuplicateKey() finds a repeated key exactly when random JSON has one", () => {
  const keyArb = fc.constantFrom('"a"', '"b"', '"\\u0061"', '"c\\n"', '"{,}"', '"\\""', '"\\u0022"');
  const { tree } = fc.letrec<{ tree: Tree }>((tie) => ({
    tree: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.jsonValue({ maxDepth: 0 }).map((value): Tree => ({ kind: "leaf", value })),
      fc.array(tie("tree"), { maxLength: 3 }).map((items): Tree => ({ kind: "array", items })),
      fc.array(fc.tuple(keyArb, tie("tree")), { maxLength: 4 }).map((pairs): Tree => ({ kind: "object", pairs })),
    ),
  }));
  fc.assert(
    fc.property(tree, (value) => {
      const text = render(value);
      JSON.parse(text);
      assert.equal(findDuplicateKey(text) !== undefined, hasRepeatedKey(value), text);
    }),
    { numRuns: 300 },
  );
});

test("depthBeyond() reports the first level past the limit and ignores brackets inside strings", () => {
  assert.equal(depthBeyond('{"a":[[1]]}', 3), undefined);
  assert.equal(depthBeyond('{"a":[[1]]}', 2), 3);
  assert.equal(depthBeyond('{"a":"[[[[[","b":"\\"[[["}', 1), undefined);
});

test("findNonDigitCount() finds counts written with a fraction, exponent or sign, only in the named arrays of entries", () => {
  assert.deepEqual(findNonDigitCount('{"w":{"shape":[3,1e0]}}', ["shape"]), {
    entry: "w",
    field: "shape",
    literal: "1e0",
    arrayText: "[3,1e0]",
  });
  assert.equal(findNonDigitCount('{"w":{"shape":[0,10,7]}}', ["shape"]), undefined);
  assert.equal(findNonDigitCount('{"w":{"other":[2.0],"shape":[1]}}', ["shape"]), undefined);
  assert.equal(findNonDigitCount('{"shape":[2.0],"w":{"x":{"shape":[-0]}}}', ["shape"]), undefined);
});
