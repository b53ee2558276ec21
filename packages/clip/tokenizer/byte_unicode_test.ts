import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { BYTE_TO_UNICODE, byteCharactersInVocabOrder, bytesToUnicode, UNICODE_TO_BYTE } from "./byte_unicode.ts";

test("BYTE_TO_UNICODE maps 256 bytes to 256 distinct printable characters", () => {
  assert.equal(BYTE_TO_UNICODE.length, 256);
  assert.equal(new Set(BYTE_TO_UNICODE).size, 256);
  for (const char of BYTE_TO_UNICODE) assert.match(char, /^[\p{L}\p{N}\p{P}\p{S}]$/u);
  assert.equal(BYTE_TO_UNICODE[0x21], "!");
  assert.equal(BYTE_TO_UNICODE[0xff], "\u00ff");
  // The 68 non-printable bytes take U+0100.. in order: 0x00 is first, 0x20 (space) the 33rd, 0xAD the last.
  assert.equal(BYTE_TO_UNICODE[0x00], "\u0100");
  assert.equal(BYTE_TO_UNICODE[0x20], "\u0120");
  assert.equal(BYTE_TO_UNICODE[0xad], "\u0143");
});

test("UNICODE_TO_BYTE inverts BYTE_TO_UNICODE", () => {
  BYTE_TO_UNICODE.forEach((char, byte) => assert.equal(UNICODE_TO_BYTE.get(char), byte));
});

test("byteCharactersInVocabOrder lists printable bytes first, like openai/CLIP's vocabulary", () => {
  const order = byteCharactersInVocabOrder();
  assert.equal(order.length, 256);
  assert.equal(order[0], "!");
  assert.equal(order[187], "\u00ff");
  assert.equal(order[188], "\u0100");
});

test("bytesToUnicode writes each UTF-8 byte as its character, on the ASCII fast path as elsewhere", () => {
  assert.equal(bytesToUnicode("a b"), "a\u0120b");
  assert.equal(bytesToUnicode("\u00e9"), "\u00c3\u00a9");
  fc.assert(
    fc.property(fc.string({ unit: "grapheme", maxLength: 16 }), (text) => {
      const expected = [...new TextEncoder().encode(text)].map((byte) => BYTE_TO_UNICODE[byte]).join("");
      return bytesToUnicode(text) === expected;
    }),
    { numRuns: 500 },
  );
});
