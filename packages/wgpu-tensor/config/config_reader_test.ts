import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DiffusersConfigReader, UnsupportedConfigError } from "./config_reader.ts";
import { parseDiffusersJson } from "./diffusers_json.ts";

describe("DiffusersConfigReader", () => {
  test("finish() accepts read, known and underscore keys and rejects any other by name", () => {
    const json = { block_out_channels: 4, solver_order: 2, _class_name: "X", typo_key: 1 };
    const reader = new DiffusersConfigReader("Model", json, { knownKeys: new Set(["solver_order"]) });
    assert.equal(reader.integer("block_out_channels", 1), 4);
    assert.throws(() => reader.finish(), /Cannot read Model config: unknown key "typo_key"/);
    const clean = new DiffusersConfigReader("Model", { block_out_channels: 4, solver_order: 2 }, { knownKeys: new Set(["solver_order"]) });
    clean.integer("block_out_channels", 1);
    clean.finish();
  });

  test("a feature not implemented throws UnsupportedConfigError naming the component and key", () => {
    const reader = new DiffusersConfigReader("DDIMScheduler", { thresholding: true });
    assert.throws(
      () => reader.unsupported("thresholding", false),
      (error) =>
        error instanceof UnsupportedConfigError &&
        error instanceof RangeError &&
        error.component === "DDIMScheduler" &&
        error.key === "thresholding" &&
        /thresholding=true is not supported/.test(error.message),
    );
  });

  test("a wrong type is a TypeError, not an UnsupportedConfigError", () => {
    const reader = new DiffusersConfigReader("Model", { layers: "two" });
    assert.throws(
      () => reader.integer("layers", 1),
      (error) => error instanceof TypeError && /layers is "two", expected an integer >= 0/.test((error as Error).message),
    );
  });
});

test("parseDiffusersJson reads Python's Infinity and NaN outside strings only", () => {
  const parsed = parseDiffusersJson('{"a": -Infinity, "b": NaN, "c": "Infinity"}') as Record<string, unknown>;
  assert.equal(parsed.a, -Infinity);
  assert.ok(Number.isNaN(parsed.b));
  assert.equal(parsed.c, "Infinity");
});
