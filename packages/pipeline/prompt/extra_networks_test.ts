import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { extraNetworkParams, parseExtraNetworks } from "./extra_networks.ts";

test("parseExtraNetworks removes every <kind:args> tag and records it by kind, in order", () => {
  const { text, networks } = parseExtraNetworks("<lora:foo:0.5:0.8> <lora:bar> <lora:baz:te=0.3:unet=0.9:dyn=16> <hypernet:h:1> photo");
  assert.equal(text, "    photo");
  assert.deepEqual([...networks.keys()], ["lora", "hypernet"]);
  assert.deepEqual(
    networks.get("lora")!.map((p) => p.positional),
    [["foo", "0.5", "0.8"], ["bar"], ["baz"]],
  );
  assert.deepEqual(
    networks.get("lora")![2]!.named,
    new Map([
      ["te", "0.3"],
      ["unet", "0.9"],
      ["dyn", "16"],
    ]),
  );
  assert.deepEqual(networks.get("hypernet")![0]!.items, ["h", "1"]);
});

test("parseExtraNetworks takes word characters of any script as the kind and leaves other text alone", () => {
  assert.equal(parseExtraNetworks("<\u00e9:x> <a b:c> <:x> <lora:> <lora:a>b>").text, " <a b:c> <:x> <lora:> b>");
  assert.deepEqual([...parseExtraNetworks("<__proto__:x><1:y>").networks.keys()], ["__proto__", "1"]);
  assert.deepEqual(parseExtraNetworks("no tags").networks.size, 0);
});

test("extraNetworkParams names items with exactly one '=' and keeps the last of a repeated key", () => {
  const params = extraNetworkParams("x:a=1:b=2=3:=4:a=5:c=");
  assert.deepEqual(params.items, ["x", "a=1", "b=2=3", "=4", "a=5", "c="]);
  assert.deepEqual(params.positional, ["x", "b=2=3"]);
  assert.deepEqual(
    params.named,
    new Map([
      ["a", "5"],
      ["", "4"],
      ["c", ""],
    ]),
  );
});

test("parseExtraNetworks returns the text between tags, and the tags in order", () => {
  const filler = fc.stringMatching(/^[^<>]{0,8}$/);
  const tag = fc.tuple(
    fc.constantFrom("lora", "hypernet", "lyco"),
    fc.array(fc.stringMatching(/^[^<>:]{1,5}$/), { minLength: 1, maxLength: 4 }),
  );
  fc.assert(
    fc.property(filler, fc.array(fc.tuple(tag, filler), { maxLength: 5 }), (first, rest) => {
      const prompt = first + rest.map(([[kind, items], text]) => `<${kind}:${items.join(":")}>${text}`).join("");
      const { text, networks } = parseExtraNetworks(prompt);
      assert.equal(text, first + rest.map(([, text]) => text).join(""));
      for (const kind of ["lora", "hypernet", "lyco"]) {
        const expected = rest.filter(([[k]]) => k === kind).map(([[, items]]) => items);
        assert.deepEqual(
          (networks.get(kind) ?? []).map((p) => p.items),
          expected,
        );
      }
    }),
    { numRuns: 500 },
  );
});
