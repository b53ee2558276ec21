import assert from "node:assert/strict";
import { test } from "node:test";
import { cleanText, whitespaceClean } from "./text_cleanup.ts";

test("whitespaceClean collapses Python's whitespace (not JavaScript's) and trims", () => {
  assert.equal(whitespaceClean("  a \t b\n\nc  "), "a b c");
  // Python's str.isspace() is true for \x1c-\x1f and \x85, false for U+FEFF and U+200B.
  assert.equal(whitespaceClean("a\x1cb\x85c\u3000d"), "a b c d");
  assert.equal(whitespaceClean("\ufeffa\u200bb"), "\ufeffa\u200bb");
  assert.equal(whitespaceClean("   "), "");
  assert.equal(whitespaceClean(""), "");
});

test("cleanText applies ftfy, whitespace clean-up and lower case, as CLIPTokenizer does", () => {
  assert.equal(cleanText("  A  Caf&eacute;  PHOTO "), "a caf\u00e9 photo");
  assert.equal(cleanText("Tom &amp; Jerry \u201cquoted\u201d"), 'tom & jerry "quoted"');
  assert.equal(cleanText("fullwidth \uff21\uff22\uff23 and \ufb01ne"), "fullwidth abc and fine");
  assert.equal(cleanText("\u0130stanbul \u039f\u0394\u039f\u03a3"), "i\u0307stanbul \u03bf\u03b4\u03bf\u03c2");
});
