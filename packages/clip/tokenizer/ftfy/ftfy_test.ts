// The ftfy port against ftfy's own documented examples, values computed with Python ftfy 6.2, and
// 600 recorded fix_text cases (test/fixtures/ftfy_cases.json, see its description).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import fc from "fast-check";
import { badness, isBad } from "./badness.ts";
import { decodeUtf8, decodeUtf8Variants, encodeCharmap, UnicodeDecodeError } from "./codecs.ts";
import { fixEncoding } from "./fix_encoding.ts";
import { fixText } from "./fix_text.ts";
import {
  fixCharacterWidth,
  fixLatinLigatures,
  fixLineBreaks,
  fixSurrogates,
  removeControlChars,
  removeTerminalEscapes,
  uncurlQuotes,
  unescapeHtml,
} from "./fixes.ts";
import { htmlUnescape } from "./html_unescape.ts";

/** A byte string from bytes. */
function bytes(...values: number[]): string {
  return String.fromCharCode(...values);
}

test("fixText() repairs ftfy's documented examples and values computed with Python ftfy 6.2", () => {
  const cases: [string, string][] = [
    ["\u00e2\u0153\u201d No problems", "\u2714 No problems"],
    ["&macr;\\_(\u00e3\u0083\u0084)_/&macr;", "\u00af\\_(\u30c4)_/\u00af"],
    ["Broken text&hellip; it&#x2019;s \ufb02ubberi\ufb01c!", "Broken text\u2026 it's flubberific!"],
    ["\uff2c\uff2f\uff35\uff24\u3000\uff2e\uff2f\uff29\uff33\uff25\uff33", "LOUD NOISES"],
    ["voil\u00c3 le travail", "voil\u00e0 le travail"],
    ["\u00c3 la mode", "\u00e0 la mode"],
    ["\u00e2\u20ac\u0153 like this \u00e2\u20ac\ufffd", '" like this \ufffd'],
    ["\u00e2\u20ac\u0153quoted\u00e2\u20ac\u009d", '"quoted"'],
    ["&ATILDE;&SUP3;", "\u00f3"],
    ["a\r\nb\rc\u2028d\u2029e\u0085f", "a\nb\nc\nd\ne\u2026f"],
    ["&lt;b&gt; &amp;amp;", "<b> &"],
    ["a < b &amp; c", "a < b &amp; c"],
    ["line one &amp;\nline <two> &amp;", "line one &\nline <two> &amp;"],
    ["\ufeffbom\u0000\u0007", "bom"],
    ["\u00d0\u00bf\u00d1\u20ac\u00d0\u00b8\u00d0\u00b2\u00d0\u00b5\u00d1\u201a", "\u043f\u0440\u0438\u0432\u0435\u0442"],
    ["\u0080\u0093", '\u20ac"'],
    ["\u00f0\u0178\u02dc\u20ac", "\u{1f600}"],
    ["\udca9\ud83d", "\ufffd\ufffd"],
  ];
  for (const [input, output] of cases) assert.equal(fixText(input), output, JSON.stringify(input));
});

test("fixText() gives Python ftfy's output on 600 recorded mojibake and entity cases", () => {
  const url = new URL("../../test/fixtures/ftfy_cases.json", import.meta.url);
  const { cases } = JSON.parse(readFileSync(url, "utf8")) as { cases: { input: string; output: string }[] };
  assert.equal(cases.length, 600);
  for (const { input, output } of cases) assert.equal(fixText(input), output, JSON.stringify(input));
});

test("fixText() leaves plain ASCII prompts and well-formed Unicode text unchanged", () => {
  fc.assert(
    fc.property(fc.stringMatching(/^[\x20-\x25\x27-\x7e\t\n]*$/), (text) => fixText(text) === text),
    { numRuns: 500 },
  );
  for (const text of ["Café crème brûlée, naïve façade, Ångström", "東京タワーの夜景", "Ελληνικά και русский текст", "emoji 👍🏽 🇯🇵"]) {
    assert.equal(fixText(text), text);
  }
});

test("fixText() is idempotent: fixing fixed text changes nothing", () => {
  const pieces = [
    "caf\u00c3\u00a9",
    "\u00e2\u20ac\u0153",
    "&amp;",
    "&eacute;",
    "\ufb01",
    "\uff21",
    "\u201c",
    "\u0080",
    " ",
    "cat",
    "\n",
    "\u00c3 ",
    "<",
  ];
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 12 }), (parts) => {
      const once = fixText(parts.join(""));
      return fixText(once) === once;
    }),
    { numRuns: 500 },
  );
});

test("fixEncoding() undoes one or two layers of mojibake and keeps sound text", () => {
  assert.equal(fixEncoding("s\u00c3\u00b3"), "s\u00f3");
  assert.equal(fixEncoding("sch\u00c3\u00b6n"), "sch\u00f6n");
  assert.equal(fixEncoding("\u00c3\u00b3"), "\u00f3");
  assert.equal(fixEncoding("&ATILDE;&SUP3;"), "&ATILDE;&SUP3;");
  assert.equal(fixEncoding("caf\u00e9"), "caf\u00e9");
  assert.equal(fixEncoding(""), "");
});

test("isBad() and badness() flag mojibake sequences but not ordinary accented text", () => {
  assert.equal(isBad("caf\u00c3\u00a9"), true);
  assert.equal(isBad("\u00e2\u20ac\u0153quoted"), true);
  assert.equal(isBad("caf\u00e9 cr\u00e8me br\u00fbl\u00e9e"), false);
  assert.equal(isBad("plain ascii"), false);
  assert.ok(badness("\u00e2\u20ac\u0153quoted\u00e2\u20ac\u009d") >= 2);
  assert.equal(badness("na\u00efve"), 0);
});

test("unescapeHtml() decodes entities with semicolons and ftfy's upper-case aliases only", () => {
  assert.equal(unescapeHtml("&lt;tag&gt;"), "<tag>");
  assert.equal(unescapeHtml("&Jscr;ohn &HilbertSpace;ancock"), "\u{1d4a5}ohn \u210bancock");
  assert.equal(unescapeHtml("&checkmark;"), "\u2713");
  assert.equal(unescapeHtml("P&eacute;rez"), "P\u00e9rez");
  assert.equal(unescapeHtml("P&EACUTE;REZ"), "P\u00c9REZ");
  assert.equal(unescapeHtml("BUNDESSTRA&SZLIG;E"), "BUNDESSTRASSE");
  assert.equal(unescapeHtml("&ntilde; &Ntilde; &NTILDE; &nTILDE;"), "\u00f1 \u00d1 \u00d1 &nTILDE;");
  assert.equal(unescapeHtml("this&not that &amp &#39; &#x27; &#12a; &#128;"), "this&not that &amp ' ' &#12a; \u20ac");
});

test("htmlUnescape() follows Python's html.unescape, references without semicolons included", () => {
  assert.equal(
    htmlUnescape("&lt;b&gt; &amp;amp; &#233; &eacutex &notit; &#0; &#x110000; &#1;"),
    "<b> &amp; \u00e9 \u00e9x \u00acit; \ufffd \ufffd ",
  );
  assert.equal(htmlUnescape("no entities"), "no entities");
});

test("the single-character fixers behave like ftfy's", () => {
  assert.equal(removeTerminalEscapes("\u001b[36;44mI'm blue, da ba dee\u001b[0m"), "I'm blue, da ba dee");
  assert.equal(uncurlQuotes("\u201chere\u2019s a test\u201d"), '"here\'s a test"');
  assert.equal(fixLatinLigatures("\ufb02u\ufb03e\ufb06"), "fluffiest");
  assert.equal(fixCharacterWidth("\uff2c\uff2f\uff35\uff24\u3000\uff2e\uff2f\uff29\uff33\uff25\uff33"), "LOUD NOISES");
  assert.equal(fixCharacterWidth("\uff35\uff80\uff70\uff9d"), "U\u30bf\u30fc\u30f3");
  assert.equal(fixLineBreaks("a\r\nb\r\rc\u2028d\u2029e\u0085f"), "a\nb\n\nc\nd\ne\nf");
  assert.equal(fixSurrogates("\ud83d\udca9 \udca9\ud83d"), "\ud83d\udca9 \ufffd\ufffd");
  assert.equal(removeControlChars("a\u0000\u0008\u000b\u000c\u000e\u001f\u007f\u206a\ufeff\ufffc\t\n\rb"), "a\u000c\t\n\rb");
});

test("decodeUtf8() is strict and keeps a byte order mark, like Python's utf-8 codec", () => {
  assert.equal(decodeUtf8(bytes(0xef, 0xbb, 0xbf, 0x61)), "\ufeffa");
  assert.throws(() => decodeUtf8(bytes(0xc3)), UnicodeDecodeError);
  assert.throws(() => decodeUtf8(bytes(0xed, 0xa0, 0x80)), UnicodeDecodeError);
  assert.throws(() => decodeUtf8(bytes(0xc0, 0x80)), UnicodeDecodeError);
});

test("decodeUtf8Variants() reads CESU-8 surrogate pairs and Java's null, and rejects lone surrogates", () => {
  assert.equal(decodeUtf8Variants("here comes a null! " + bytes(0xc0, 0x80)), "here comes a null! \u0000");
  // U+1F600 as CESU-8: the UTF-8 of its two surrogates D83D DE00.
  assert.equal(decodeUtf8Variants("x" + bytes(0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80) + "y"), "x\u{1f600}y");
  assert.equal(decodeUtf8Variants(bytes(0xed, 0x95, 0x9c)), "\ud55c");
  assert.throws(() => decodeUtf8Variants(bytes(0xed, 0xa0, 0xbd)), UnicodeDecodeError);
  assert.throws(() => decodeUtf8Variants(bytes(0xc0)), UnicodeDecodeError);
});

test("decodeUtf8Variants() decodes any valid UTF-8 exactly like the strict decoder", () => {
  fc.assert(
    fc.property(fc.string({ unit: "grapheme", maxLength: 20 }), (text) => {
      const utf8 = String.fromCharCode(...new TextEncoder().encode(text));
      return decodeUtf8Variants(utf8) === text && decodeUtf8(utf8) === text;
    }),
    { numRuns: 300 },
  );
});

test("encodeCharmap() inverts each single-byte table and refuses characters it has no byte for", () => {
  assert.equal(encodeCharmap("\u20ac\u00e9", "sloppy-windows-1252"), bytes(0x80, 0xe9));
  assert.equal(encodeCharmap("\ufffd", "sloppy-windows-1252"), bytes(0x1a));
  assert.equal(encodeCharmap("\u0416", "sloppy-windows-1251"), bytes(0xc6));
  assert.throws(() => encodeCharmap("\u0416", "latin-1"), RangeError);
});
