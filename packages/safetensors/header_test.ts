import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeHeader, parseSafetensorsHeader, readHeaderByteLength } from "./header.ts";
import { assertSafetensorsError } from "./test/_assert_error.ts";
import { entry, fileWithHeader, fileWithHeaderBytes } from "./test/_build.ts";

test("parseSafetensorsHeader() reads tensors in data order with metadata", () => {
  const text = `{${entry("b", "F32", [2], 8, 16)},"__metadata__":{"format":"pt"},${entry("a", "I64", [1], 0, 8)}}  `;
  const header = parseSafetensorsHeader(fileWithHeader(text, 16));
  assert.deepEqual(
    header.tensors.map((t) => t.name),
    ["a", "b"],
  );
  assert.deepEqual(header.metadata, { format: "pt" });
  assert.equal(header.headerByteLength, new TextEncoder().encode(text).length);
  assert.equal(header.dataByteOffset, 8 + header.headerByteLength);
  assert.equal(header.dataByteLength, 16);
  assert.deepEqual(header.tensors[1], { name: "b", dtype: "F32", shape: [2], dataOffsets: [8, 16] });
});

test("parseSafetensorsHeader() accepts an empty header with no data", () => {
  const header = parseSafetensorsHeader(fileWithHeader("{}      "));
  assert.deepEqual(header.tensors, []);
  assert.deepEqual(header.metadata, {});
});

test("parseSafetensorsHeader() accepts scalars, zero-size tensors sharing an offset, and trailing whitespace", () => {
  const text = `{${entry("s", "F64", [], 0, 8)},${entry("z1", "F32", [0, 3], 8, 8)},${entry("z2", "U8", [0], 8, 8)}}\n\t `;
  const header = parseSafetensorsHeader(fileWithHeader(text, 8));
  assert.deepEqual(header.tensors.map((t) => t.name).sort(), ["s", "z1", "z2"]);
});

test("parseSafetensorsHeader() keeps __proto__ as an ordinary name", () => {
  const text = `{${entry("__proto__", "U8", [1], 0, 1)},"__metadata__":{"__proto__":"x"}}`;
  const header = parseSafetensorsHeader(fileWithHeader(text, 1));
  assert.equal(header.tensors[0]!.name, "__proto__");
  assert.equal(Object.getOwnPropertyDescriptor(header.metadata, "__proto__")?.value, "x");
  assert.equal(Object.getPrototypeOf(header.metadata), Object.prototype);
});

test("readHeaderByteLength() rejects a file shorter than the length field", () => {
  assertSafetensorsError(() => readHeaderByteLength(new Uint8Array(5)), {
    code: "file_too_small",
    message: "Cannot parse safetensors file: file is 5 bytes, expected at least 8 for the header length",
  });
});

test("readHeaderByteLength() rejects a length above the 100 MB limit before allocating anything", () => {
  assertSafetensorsError(() => parseSafetensorsHeader(fileWithHeader("{}", 0, 2n ** 40n)), {
    code: "header_too_large",
    message: "Cannot parse safetensors header: header length 1099511627776 exceeds the 100000000-byte limit",
  });
  assertSafetensorsError(() => parseSafetensorsHeader(fileWithHeader("{}", 0, 100_000_001n)), { code: "header_too_large" });
  assertSafetensorsError(() => parseSafetensorsHeader(fileWithHeader("{}", 0, 2n ** 64n - 1n)), {
    code: "header_too_large",
    message: /18446744073709551615/,
  });
});

test("readHeaderByteLength() rejects a length that runs past the end of the file", () => {
  assertSafetensorsError(() => parseSafetensorsHeader(fileWithHeader("{}", 0, 100n)), {
    code: "header_out_of_bounds",
    message: "Cannot parse safetensors header: header length 100 runs past the end of the file (8 + 100 > 10 bytes)",
  });
});

test("decodeHeader() rejects text that is not UTF-8", () => {
  const bytes = new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]);
  assertSafetensorsError(() => parseSafetensorsHeader(fileWithHeaderBytes(bytes)), {
    code: "invalid_utf8",
    message: "Cannot parse safetensors header: header is not valid UTF-8",
  });
});

test("decodeHeader() rejects a header that does not start with a brace, like a BOM or an array", () => {
  for (const text of ["\ufeff{}", " {}", "[]", '"x"', "null"]) {
    assertSafetensorsError(() => parseSafetensorsHeader(fileWithHeader(text)), { code: "invalid_header", message: /expected "\{"/ });
  }
});

test("decodeHeader() rejects text that is not JSON", () => {
  for (const text of ['{"a":', "{}}", "{} x", "{\u0000}"]) {
    assertSafetensorsError(() => parseSafetensorsHeader(fileWithHeader(text)), {
      code: "invalid_json",
      message: /^Cannot parse safetensors header: header is not valid JSON \(/,
    });
  }
});

test("decodeHeader() rejects a tensor name that occurs twice, even when spelled with escapes", () => {
  const text = `{${entry("a", "U8", [1], 0, 1)},${entry("a", "U8", [1], 1, 2)}}`;
  assertSafetensorsError(() => parseSafetensorsHeader(fileWithHeader(text, 2)), {
    code: "duplicate_name",
    message: 'Cannot parse safetensors header: name "a" occurs twice, expected unique names',
    tensorName: "a",
  });
  const escaped = `{${entry("a", "U8", [1], 0, 1)},"\\u0061":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`;
  assertSafetensorsError(() => parseSafetensorsHeader(fileWithHeader(escaped, 2)), { code: "duplicate_name", tensorName: "a" });
  const twoMetadata = `{"__metadata__":{},"__metadata__":{}}`;
  assertSafetensorsError(() => parseSafetensorsHeader(fileWithHeader(twoMetadata)), { code: "duplicate_name" });
});

test("decodeHeader() rejects a key that occurs twice inside one entry", () => {
  const text = `{"w":{"dtype":"U8","dtype":"U8","shape":[1],"data_offsets":[0,1]}}`;
  assertSafetensorsError(() => parseSafetensorsHeader(fileWithHeader(text, 1)), {
    code: "invalid_header",
    message: 'Cannot parse safetensors header: entry "w" has key "dtype" twice, expected unique keys',
    tensorName: "w",
  });
});

test("decodeHeader() rejects an entry that is not an object", () => {
  assertSafetensorsError(() => parseSafetensorsHeader(fileWithHeader('{"w":[1,2]}')), {
    code: "invalid_header",
    message: 'Cannot parse safetensors header: tensor "w" is [1,2], expected an object with dtype, shape and data_offsets',
    tensorName: "w",
  });
});

test("decodeHeader() rejects unknown or missing dtypes", () => {
  const cases = [
    ['{"w":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}', /tensor "w" has dtype "F33", expected one of BOOL, U8/],
    ['{"w":{"dtype":"float32","shape":[1],"data_offsets":[0,4]}}', /has dtype "float32"/],
    ['{"w":{"shape":[1],"data_offsets":[0,4]}}', /has dtype nothing/],
    ['{"w":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}', /has dtype 4/],
  ] as const;
  for (const [text, message] of cases) {
    assertSafetensorsError(() => parseSafetensorsHeader(fileWithHeader(text, 4)), { code: "unknown_dtype", message, tensorName: "w" });
  }
});

test("decodeHeader() rejects shapes with negative, fractional, huge or non-number dims", () => {
  for (const shape of ["[-1]", "[1.5]", '["2"]', "[1e300]", "[9007199254740992]", "{}", "4", "null", "[[1]]"]) {
    const text = `{"w":{"dtype":"U8","shape":${shape},"data_offsets":[0,1]}}`;
    assertSafetensorsError(() => parseSafetensorsHeader(fileWithHeader(text, 1)), {
      code: "invalid_shape",
      message: /tensor "w" has shape .*, expected an array of non-negative integers$/,
      tensorName: "w",
    });
  }
});

test("decodeHeader() rejects dims and offsets written with a fraction, an exponent or a sign, as the reference does", () => {
  for (const dim of ["2.0", "1e0", "1E0", "-0", "10e-1", "2e+0", "0.0"]) {
    const value = dim === "0.0" || dim === "-0" ? 0 : dim === "2.0" || dim === "2e+0" ? 2 : 1;
    const shape = `{"w":{"dtype":"U8","shape":[${dim}],"data_offsets":[0,${value}]}}`;
    assertSafetensorsError(() => parseSafetensorsHeader(fileWithHeader(shape, value)), {
      code: "invalid_shape",
      message: `Cannot parse safetensors header: tensor "w" has shape [${dim}], expected an array of non-negative integers written as digits only`,
      tensorName: "w",
    });
    const offsets = `{"w":{"dtype":"U8","shape":[${value}],"data_offsets":[0,${dim}]}}`;
    assertSafetensorsError(() => parseSafetensorsHeader(fileWithHeader(offsets, value)), {
      code: "invalid_offsets",
      message: `Cannot parse safetensors header: tensor "w" has data_offsets [0,${dim}], expected [begin, end] written as digits only`,
      tensorName: "w",
    });
  }
  // a number in a field the format does not define is ignored, like any unknown field
  const extra = `{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"scale":[2.0,-0,1e0]}}`;
  assert.deepEqual(parseSafetensorsHeader(fileWithHeader(extra, 1)).tensors[0]!.shape, [1]);
});

test("decodeHeader() rejects nesting deeper than 128 levels (serde_json's limit) before parsing the JSON", () => {
  const nested = (levels: number) => `{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":${"[".repeat(levels)}${"]".repeat(levels)}}}`;
  assert.equal(parseSafetensorsHeader(fileWithHeader(nested(126), 1)).tensors.length, 1);
  assertSafetensorsError(() => parseSafetensorsHeader(fileWithHeader(nested(127), 1)), {
    code: "invalid_json",
    message: "Cannot parse safetensors header: header nests arrays and objects 129 levels deep, expected at most 128",
  });
  // 50 MB of brackets, within the 100 MB header limit: was "Reached heap limit" (JSON.parse, then a frame per level)
  const heapBefore = process.memoryUsage().heapUsed;
  const hostile = `{"a":${"[".repeat(25_000_000)}${"]".repeat(25_000_000)}}`;
  assertSafetensorsError(() => parseSafetensorsHeader(fileWithHeader(hostile)), {
    code: "invalid_json",
    message: /129 levels deep, expected at most 128$/,
  });
  assert.ok(process.memoryUsage().heapUsed - heapBefore < 400 * 2 ** 20, "memory stays proportional to the header");
});

test("decodeHeader() rejects data_offsets that are not an ordered pair of byte counts", () => {
  for (const offsets of ["[0]", "[0,1,2]", "[-1,0]", "[1,0]", "[0.5,1]", '["0","1"]', "null", "{}"]) {
    const text = `{"w":{"dtype":"U8","shape":[1],"data_offsets":${offsets}}}`;
    assertSafetensorsError(() => parseSafetensorsHeader(fileWithHeader(text, 1)), {
      code: "invalid_offsets",
      message: /tensor "w" has data_offsets .*, expected \[begin, end\] with 0 <= begin <= end$/,
      tensorName: "w",
    });
  }
});

test("decodeHeader() rejects a byte range that disagrees with shape and dtype", () => {
  assertSafetensorsError(() => parseSafetensorsHeader(fileWithHeader(`{${entry("w", "F32", [2, 3], 0, 20)}}`, 20)), {
    code: "size_mismatch",
    message: 'Cannot parse safetensors header: tensor "w" has shape [2, 3] of F32 needing 24 bytes, but data_offsets [0, 20] hold 20',
    tensorName: "w",
  });
  const huge = `{${entry("w", "F64", [2 ** 30, 2 ** 30, 2 ** 30], 0, 8)}}`;
  assertSafetensorsError(() => parseSafetensorsHeader(fileWithHeader(huge, 8)), {
    code: "size_mismatch",
    message: /needing more than 2\^53 bytes/,
  });
});

test("decodeHeader() rejects a byte range past the end of the data area", () => {
  assertSafetensorsError(() => parseSafetensorsHeader(fileWithHeader(`{${entry("w", "U8", [4], 0, 4)}}`, 3)), {
    code: "offsets_out_of_bounds",
    message: 'Cannot parse safetensors header: tensor "w" at data_offsets [0, 4] ends past the 3-byte data area',
    tensorName: "w",
  });
});

test("decodeHeader() rejects overlapping byte ranges", () => {
  const text = `{${entry("a", "U8", [4], 0, 4)},${entry("b", "U8", [4], 2, 6)}}`;
  assertSafetensorsError(() => parseSafetensorsHeader(fileWithHeader(text, 6)), {
    code: "overlap",
    message: 'Cannot parse safetensors header: tensor "b" at data_offsets [2, 6] overlaps tensor "a" which ends at 4',
    tensorName: "b",
  });
  const same = `{${entry("a", "U8", [4], 0, 4)},${entry("b", "U8", [4], 0, 4)}}`;
  assertSafetensorsError(() => parseSafetensorsHeader(fileWithHeader(same, 4)), { code: "overlap" });
});

test("decodeHeader() rejects holes between byte ranges and at the start", () => {
  const middle = `{${entry("a", "U8", [2], 0, 2)},${entry("b", "U8", [2], 4, 6)}}`;
  assertSafetensorsError(() => parseSafetensorsHeader(fileWithHeader(middle, 6)), {
    code: "hole",
    message:
      'Cannot parse safetensors header: tensor "b" at data_offsets [4, 6] leaves bytes [2, 4) after tensor "a" unused, expected contiguous tensors',
    tensorName: "b",
  });
  const start = `{${entry("a", "U8", [2], 1, 3)}}`;
  assertSafetensorsError(() => parseSafetensorsHeader(fileWithHeader(start, 3)), {
    code: "hole",
    message: /after the start of the data area/,
  });
});

test("decodeHeader() rejects data bytes after the last tensor", () => {
  assertSafetensorsError(() => parseSafetensorsHeader(fileWithHeader(`{${entry("a", "U8", [2], 0, 2)}}`, 3)), {
    code: "incomplete_buffer",
    message: "Cannot parse safetensors header: tensors end at byte 2 of the data area, but it holds 3 bytes",
  });
  assertSafetensorsError(() => parseSafetensorsHeader(fileWithHeader("{}", 1)), { code: "incomplete_buffer" });
});

test("decodeHeader() rejects __metadata__ that is not a map of strings", () => {
  for (const value of ["[]", '"pt"', "null", "1"]) {
    assertSafetensorsError(() => parseSafetensorsHeader(fileWithHeader(`{"__metadata__":${value}}`)), {
      code: "invalid_metadata",
      message: /__metadata__ is .*, expected an object of strings$/,
    });
  }
  assertSafetensorsError(() => parseSafetensorsHeader(fileWithHeader('{"__metadata__":{"epoch":3}}')), {
    code: "invalid_metadata",
    message: 'Cannot parse safetensors header: __metadata__ entry "epoch" is 3, expected a string',
  });
});

test("decodeHeader() with an unknown file size takes the data area to end at the last tensor", () => {
  const header = decodeHeader(new TextEncoder().encode(`{${entry("a", "U8", [5], 0, 5)}}`), undefined);
  assert.equal(header.dataByteLength, 5);
});

test("decodeHeader() shortens long values in messages", () => {
  const longName = "x".repeat(200);
  const text = `{"w":{"dtype":${JSON.stringify(longName)},"shape":[1],"data_offsets":[0,1]}}`;
  assertSafetensorsError(() => parseSafetensorsHeader(fileWithHeader(text, 1)), {
    code: "unknown_dtype",
    message: /has dtype "x{56}\.\.\., expected/,
  });
});
