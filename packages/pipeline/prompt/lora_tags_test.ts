import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { parseExtraNetworks } from "./extra_networks.ts";
import { loraTagsFromNetworks, parseLoraTags } from "./lora_tags.ts";
import { PromptSyntaxError } from "./prompt_attention.ts";

test("parseLoraTags reads positional and named multipliers like A1111's Lora extension", () => {
  assert.deepEqual(parseLoraTags("<lora:foo:0.5:0.8> <lora:bar> <lora:baz:te=0.3:unet=0.9:dyn=16> <hypernet:h:1> photo"), [
    { name: "foo", teMultiplier: 0.5, unetMultiplier: 0.8, dynDim: null },
    { name: "bar", teMultiplier: 1.0, unetMultiplier: 1.0, dynDim: null },
    { name: "baz", teMultiplier: 0.3, unetMultiplier: 0.9, dynDim: 16 },
  ]);
  assert.deepEqual(parseLoraTags("<lora:a_b-c.d:0.65> <lora:x:1.0:0.0> <lora:y:1:1:8>"), [
    { name: "a_b-c.d", teMultiplier: 0.65, unetMultiplier: 0.65, dynDim: null },
    { name: "x", teMultiplier: 1.0, unetMultiplier: 0.0, dynDim: null },
    { name: "y", teMultiplier: 1.0, unetMultiplier: 1.0, dynDim: 8 },
  ]);
  assert.deepEqual(parseLoraTags("<lora:z:0.5:te=0.3>"), [{ name: "z", teMultiplier: 0.3, unetMultiplier: 0.3, dynDim: null }]);
});

test("parseLoraTags reads numbers like Python's float() and int()", () => {
  assert.deepEqual(parseLoraTags("<lora:n: 2 :1_0:\u0661\u0666>"), [{ name: "n", teMultiplier: 2, unetMultiplier: 10, dynDim: 16 }]);
  assert.throws(() => parseLoraTags("<lora:n:abc>"), /Cannot read <lora:n:abc>: the te multiplier "abc" is not a number/);
  assert.throws(() => parseLoraTags("<lora:n:1:1:16.0>"), /dyn "16.0" is not an integer/);
  // A1111 parses the positional value even when a named one overrides it.
  assert.throws(() => parseLoraTags("<lora:n:abc:te=1>"), PromptSyntaxError);
  assert.throws(() => parseLoraTags("<lora:te=1>"), /it names no LoRA/);
});

test("parseLoraTags reads lyco tags only when asked", () => {
  assert.deepEqual(parseLoraTags("<lyco:q:0.2>"), []);
  assert.deepEqual(
    parseLoraTags("<lora:a> <lyco:q:0.2>", { kinds: ["lora", "lyco"] }).map((t) => t.name),
    ["a", "q"],
  );
  assert.deepEqual(loraTagsFromNetworks(parseExtraNetworks("<hypernet:h>").networks), []);
});

test("a unet multiplier defaults to the te multiplier, and named values win over positional ones", () => {
  const value = fc.double({ min: -4, max: 4, noNaN: true }).map((x) => Math.round(x * 1000) / 1000 + 0); // + 0 turns -0 into 0, as String() writes it
  fc.assert(
    fc.property(value, fc.option(value), fc.option(value), fc.option(value), (te, unet, namedTe, namedUnet) => {
      const items = ["net", String(te), ...(unet === null ? [] : [String(unet)])];
      if (namedTe !== null) items.push(`te=${namedTe}`);
      if (namedUnet !== null) items.push(`unet=${namedUnet}`);
      const [tag] = parseLoraTags(`<lora:${items.join(":")}>`);
      const expectedTe = namedTe ?? te;
      assert.equal(tag!.teMultiplier, expectedTe);
      assert.equal(tag!.unetMultiplier, namedUnet ?? unet ?? expectedTe);
    }),
    { numRuns: 500 },
  );
});

test("multipliers that Python's float() reads as nan or inf are refused", () => {
  for (const tag of ["<lora:x:nan>", "<lora:x:1:inf>", "<lora:x:te=-Infinity>"]) {
    assert.throws(
      () => parseLoraTags(tag),
      (error: Error) => error instanceof PromptSyntaxError && /is not a finite number$/.test(error.message),
      tag,
    );
  }
});
