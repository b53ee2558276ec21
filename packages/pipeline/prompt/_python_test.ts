import assert from "node:assert/strict";
import { test } from "node:test";
import { parsePythonFloat, parsePythonInt } from "./_python.ts";

test("parsePythonFloat accepts what Python's float() accepts and nothing else", () => {
  // Each pair checked with CPython 3.11: float(text), or null for ValueError.
  const cases: [string, number | null][] = [
    ["1", 1],
    [" 1.5 ", 1.5],
    ["1_0", 10],
    ["1__0", null],
    ["_1", null],
    ["1_", null],
    [".5", 0.5],
    ["5.", 5],
    [".", null],
    ["+.5", 0.5],
    ["1e3", 1000],
    ["1E+3", 1000],
    ["1e", null],
    ["inf", Infinity],
    ["-Infinity", -Infinity],
    ["0x10", null],
    ["", null],
    ["\u0661\u0662", 12],
    ["1.2.3", null],
    ["1_0.5_5", 10.55],
    ["1._5", null],
    ["1e1_0", 1e10],
    ["\u20071", 1],
    ["\u001c1", null],
    ["\ufeff1", null],
    ["infinit", null],
  ];
  for (const [text, value] of cases) assert.equal(parsePythonFloat(text), value, JSON.stringify(text));
  assert.ok(Number.isNaN(parsePythonFloat("NaN")));
});

test("parsePythonInt accepts what Python's int() accepts and nothing else", () => {
  const cases: [string, number | null][] = [
    ["16", 16],
    [" 16 ", 16],
    ["+16", 16],
    ["-1", -1],
    ["1_6", 16],
    ["16.0", null],
    ["\u0661\u0666", 16],
    ["\u001c16", null],
    ["\u008516", 16],
    ["016", 16],
    ["0_0", 0],
    ["", null],
  ];
  for (const [text, value] of cases) assert.equal(parsePythonInt(text), value, JSON.stringify(text));
});
