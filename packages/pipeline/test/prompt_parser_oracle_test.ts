// The prompt_parser oracle case (test/fixtures/oracle/prompt_parser.json, a copy of
// shared/fixtures/oracle/): A1111's parse_prompt_attention, extra-network extraction and <lora>
// multipliers, computed by the webui's own code.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { promptParserParityCase, type PromptParserParityManifest } from "../../../scripts/parity/cases/prompt_parser_case.ts";

const manifest = JSON.parse(
  readFileSync(new URL("./fixtures/oracle/prompt_parser.json", import.meta.url), "utf8"),
) as PromptParserParityManifest & {
  outputs: string[];
  tolerance: { atol: number; rtol: number };
  cases: Record<string, unknown>[];
};

/** Structure and strings exactly, numbers within the manifest's tolerance (numpy allclose). */
function assertClose(got: unknown, want: unknown, path: string): void {
  if (typeof want === "number") {
    assert.equal(typeof got, "number", path);
    const allowed = manifest.tolerance.atol + manifest.tolerance.rtol * Math.abs(want);
    assert.ok(Math.abs((got as number) - want) <= allowed || got === want, `${path}: got ${got}, want ${want}`);
    return;
  }
  if (Array.isArray(want)) {
    assert.ok(Array.isArray(got) && got.length === want.length, `${path}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    want.forEach((item, index) => assertClose(got[index], item, `${path}[${index}]`));
    return;
  }
  if (typeof want === "object" && want !== null) {
    assert.ok(typeof got === "object" && got !== null, path);
    assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort(), path);
    for (const key of Object.keys(want))
      assertClose((got as Record<string, unknown>)[key], (want as Record<string, unknown>)[key], `${path}.${key}`);
    return;
  }
  assert.equal(got, want, path);
}

test("every oracle case gives the reference outputs of A1111's prompt parsers", () => {
  assert.equal(manifest.kind, "prompt_parser");
  assert.ok(manifest.cases.length >= 29);
  const results = promptParserParityCase(manifest);
  for (const [index, result] of results.entries()) {
    const want = manifest.cases[index]!;
    for (const output of manifest.outputs) {
      assertClose((result as unknown as Record<string, unknown>)[output], want[output], `${JSON.stringify(want.prompt)} ${output}`);
    }
  }
});

test("the weights come out bit for bit as Python computed them", () => {
  const results = promptParserParityCase(manifest);
  for (const [index, result] of results.entries()) {
    assert.deepEqual(result.parse_prompt_attention, manifest.cases[index]!.parse_prompt_attention);
  }
});
