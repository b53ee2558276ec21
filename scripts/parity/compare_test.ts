import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { compareArrays, compareJson, formatNumber } from "./compare.ts";
import { asManifest, parsePythonJson, toleranceOf } from "./manifest.ts";

describe("parity comparisons", () => {
  test("compareArrays() is numpy allclose and reports the element closest to failing", () => {
    const tolerance = { atol: 1e-4, rtol: 1e-3 };
    const pass = compareArrays("y", [1.0005, 2, 100.05], [1, 2, 100], tolerance);
    assert.equal(pass.isPass, true);
    assert.equal(pass.detail, "element 2: got 100.05, want 100"); // 0.05 / 0.1001 beats 0.0005 / 0.0011
    const fail = compareArrays("y", [1, 2.01, 3], [1, 2, 3], tolerance);
    assert.equal(fail.isPass, false);
    assert.ok(Math.abs(fail.maxError - 0.01) < 1e-12 && Math.abs(fail.allowed - 0.0021) < 1e-12);
  });

  test("with no error anywhere, compareArrays() reports the tightest allowance", () => {
    const exact = compareArrays("y", [50, 0.5, 7], [50, 0.5, 7], { atol: 1e-5, rtol: 1e-3 });
    assert.deepEqual([exact.isPass, exact.maxError, exact.allowed], [true, 0, 1e-5 + 1e-3 * 0.5]);
  });

  test("compareArrays() fails NaN, length mismatches and any difference under exact tolerances", () => {
    assert.equal(compareArrays("y", [NaN], [NaN], { atol: 1, rtol: 1 }).isPass, false);
    assert.equal(compareArrays("y", [1, 2], [1], { atol: 1, rtol: 1 }).maxError, Infinity);
    assert.equal(compareArrays("ids", [49407], [49406], { atol: 0, rtol: 0 }).isPass, false);
    assert.equal(compareArrays("ids", [49407], [49407], { atol: 0, rtol: 0 }).isPass, true);
  });

  test("compareJson() matches structure and strings exactly and numbers within tolerance", () => {
    const want = [
      ["a cat", 1.1],
      ["BREAK", -1],
    ];
    assert.equal(
      compareJson(
        "p",
        [
          ["a cat", 1.1000001],
          ["BREAK", -1],
        ],
        want,
        { atol: 1e-6, rtol: 0 },
      ).isPass,
      true,
    );
    assert.match(
      compareJson(
        "p",
        [
          ["a dog", 1.1],
          ["BREAK", -1],
        ],
        want,
        { atol: 1, rtol: 0 },
      ).detail,
      /\$\[0\]\[0\]: got "a dog"/,
    );
    assert.equal(compareJson("p", [["a cat", 1.1]], want, { atol: 1, rtol: 0 }).isPass, false);
  });

  test("manifests: per-output tolerance overrides the case's, and non-manifests are recognised", () => {
    const manifest = asManifest(
      { kind: "resize", outputs: ["a", "b"], tolerance: { atol: 1, rtol: 2 }, tolerance_per_output: { b: { atol: 3, rtol: 4 } } },
      "stem",
    )!;
    assert.equal(manifest.name, "stem");
    assert.deepEqual(toleranceOf(manifest, "a"), { atol: 1, rtol: 2 });
    assert.deepEqual(toleranceOf(manifest, "b"), { atol: 3, rtol: 4 });
    assert.equal(asManifest({ vocab: {} }, "vocab"), null);
    assert.equal(asManifest([1, 2], "list"), null);
  });

  test("parsePythonJson() reads Python's NaN and ±Infinity but leaves strings alone", () => {
    const parsed = parsePythonJson('{"a": -Infinity, "b": [NaN, Infinity, 1e-3], "c": "NaN -Infinity \\" Infinity"}') as Record<
      string,
      unknown
    >;
    assert.equal(parsed.a, -Infinity);
    assert.deepEqual(parsed.b, [NaN, Infinity, 1e-3]);
    assert.equal(parsed.c, 'NaN -Infinity " Infinity');
    assert.throws(() => parsePythonJson("{nope}"), SyntaxError);
  });

  test("formatNumber() prints three significant digits", () => {
    assert.deepEqual([1.0334e-5, 1e-4, 0, Infinity, 0.00015].map(formatNumber), ["1.03e-5", "1e-4", "0", "inf", "1.5e-4"]);
  });
});
