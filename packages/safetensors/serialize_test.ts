import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { dtypeByteSize, dtypeRank } from "./dtype.ts";
import { parseSafetensors } from "./parse.ts";
import { compareCodePoints, layoutSafetensors, serializeSafetensors } from "./serialize.ts";
import { metadataArb, rawBytes, tensorsArb } from "./test/_arbitraries.ts";
import { assertSafetensorsError } from "./test/_assert_error.ts";

function bytesOf(text: string): number[] {
  return [...new TextEncoder().encode(text)];
}

function lengthField(length: number): number[] {
  return [length, 0, 0, 0, 0, 0, 0, 0];
}

const SIX_FLOATS = [0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64];

// Expected bytes below are the reference Rust library's own tests (safetensors/src/tensor.rs).
test("serializeSafetensors() writes the same bytes as the reference library for one tensor", () => {
  const bytes = serializeSafetensors({ "attn.0": { dtype: "F32", shape: [1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) } });
  const header = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
  assert.deepEqual([...bytes], [...lengthField(64), ...bytesOf(header), ...SIX_FLOATS]);
});

test("serializeSafetensors() pads the header with spaces to a multiple of 8 as the reference library does", () => {
  const bytes = serializeSafetensors({ attn0: { dtype: "F32", shape: [1, 1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) } });
  const header = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       ';
  assert.deepEqual([...bytes], [...lengthField(72), ...bytesOf(header), ...SIX_FLOATS]);
});

test("serializeSafetensors() writes an empty file and a metadata-only file as the reference library does", () => {
  assert.deepEqual([...serializeSafetensors({})], [...lengthField(8), ...bytesOf("{}      ")]);
  const withMetadata = serializeSafetensors({}, { framework: "pt" });
  assert.deepEqual([...withMetadata], [...lengthField(40), ...bytesOf('{"__metadata__":{"framework":"pt"}}     ')]);
});

test("serializeSafetensors() orders tensors by dtype alignment, largest first, then by name", () => {
  const tensors = {
    b16: { dtype: "F16", shape: [1], data: new Uint16Array([1]) },
    a8: { dtype: "U8", shape: [3], data: new Uint8Array(3) },
    z64: { dtype: "I64", shape: [1], data: new BigInt64Array(1) },
    a64: { dtype: "F64", shape: [1], data: new Float64Array(1) },
    a16: { dtype: "BF16", shape: [1], data: new Uint16Array(1) },
    c32: { dtype: "F32", shape: [1], data: new Float32Array(1) },
    b32: { dtype: "I32", shape: [1], data: new Int32Array(1) },
    bool: { dtype: "BOOL", shape: [1], data: new Uint8Array(1) },
  } as const;
  const { tensors: parsed } = parseSafetensors(serializeSafetensors(tensors));
  assert.deepEqual([...parsed.keys()], ["z64", "a64", "c32", "b32", "a16", "b16", "a8", "bool"]);
});

test("serializeSafetensors() sorts names by code point, the byte order of UTF-8", () => {
  const names = ["\uff5e", "\u{1f600}", "a", "B", "é"];
  const tensors = Object.fromEntries(names.map((name) => [name, { dtype: "U8" as const, shape: [0], data: new Uint8Array(0) }]));
  const header = new TextDecoder().decode(serializeSafetensors(tensors).subarray(8));
  const order = names.slice().sort(compareCodePoints);
  assert.deepEqual(order, ["B", "a", "é", "\uff5e", "\u{1f600}"]);
  const positions = order.map((name) => header.indexOf(JSON.stringify(name)));
  assert.deepEqual(
    positions,
    positions.slice().sort((left, right) => left - right),
  );
});

test("serializeSafetensors() accepts a Map, typed arrays at an offset, and raw bytes", () => {
  const backing = new Float32Array([9, 1, 2, 9]);
  const tensors = new Map([
    ["view", { dtype: "F32" as const, shape: [2], data: backing.subarray(1, 3) }],
    ["raw", { dtype: "I16" as const, shape: [1], data: new Uint8Array([0xff, 0x7f]) }],
    ["clamped", { dtype: "U8" as const, shape: [2], data: new Uint8ClampedArray([3, 4]) }],
  ]);
  const parsed = parseSafetensors(serializeSafetensors(tensors)).tensors;
  assert.deepEqual([...new Float32Array(parsed.get("view")!.data.slice().buffer)], [1, 2]);
  assert.deepEqual([...parsed.get("raw")!.data], [0xff, 0x7f]);
  assert.deepEqual([...parsed.get("clamped")!.data], [3, 4]);
});

test("serializeSafetensors() rejects malformed tensors before writing anything", () => {
  const cases: [unknown, RegExp][] = [
    [{ dtype: "F33", shape: [1], data: new Uint8Array(4) }, /tensor "t" has dtype "F33", expected a safetensors dtype/],
    [{ dtype: "F32", shape: [-1], data: new Uint8Array(4) }, /has shape \[-1\], expected an array of non-negative integers/],
    [{ dtype: "F32", shape: [1.5], data: new Uint8Array(4) }, /has shape \[1.5\]/],
    [{ dtype: "F32", shape: [2], data: new Uint8Array(4) }, /has 4 bytes of data, expected 8 for shape \[2\] of F32/],
    [
      { dtype: "F16", shape: [2], data: new Float32Array(2) },
      /has data Float32Array for dtype F16, expected a Uint16Array or a Uint8Array of raw bytes/,
    ],
    [{ dtype: "I32", shape: [1], data: new Float32Array(1) }, /has data Float32Array for dtype I32/],
    [{ dtype: "F32", shape: [1], data: [1] }, /has data \[object Array\], expected a typed array/],
    [null, /tensor "t" is null/],
  ];
  for (const [tensor, message] of cases) {
    assertSafetensorsError(() => serializeSafetensors({ t: tensor } as never), { code: "invalid_tensor", message, tensorName: "t" });
  }
});

test("serializeSafetensors() rejects names and metadata it could not write faithfully", () => {
  const u8 = { dtype: "U8" as const, shape: [0], data: new Uint8Array(0) };
  assertSafetensorsError(() => serializeSafetensors({ __metadata__: u8 }), { code: "invalid_tensor", message: /reserved for metadata/ });
  assertSafetensorsError(() => serializeSafetensors({ ["a\ud800"]: u8 }), { code: "invalid_tensor", message: /lone UTF-16 surrogate/ });
  assertSafetensorsError(() => serializeSafetensors({}, { epoch: 3 } as never), {
    code: "invalid_metadata",
    message: 'Cannot serialize safetensors: metadata "epoch" is number, expected a string',
  });
  assertSafetensorsError(() => serializeSafetensors({}, [] as never), { code: "invalid_metadata" });
  assertSafetensorsError(() => serializeSafetensors({}, { k: "\udc00" }), { code: "invalid_tensor", message: /metadata value/ });
});

test("layoutSafetensors() plans the same bytes serializeSafetensors() writes", () => {
  const tensors = {
    a: { dtype: "F32" as const, shape: [1], data: new Float32Array([1]) },
    b: { dtype: "U8" as const, shape: [1], data: new Uint8Array([2]) },
  };
  const layout = layoutSafetensors(tensors, { k: "v" });
  const joined = new Uint8Array([...layout.head, ...layout.chunks.flatMap((chunk) => [...chunk.bytes])]);
  assert.equal(layout.byteLength, joined.length);
  assert.deepEqual(joined, serializeSafetensors(tensors, { k: "v" }));
  assert.deepEqual(
    layout.chunks.map((chunk) => chunk.name),
    ["a", "b"],
  );
});

test("parseSafetensors(serializeSafetensors(x)) gives back x for random tensors of every dtype and metadata", () => {
  fc.assert(
    fc.property(tensorsArb, metadataArb, (tensors, metadata) => {
      const bytes = serializeSafetensors(tensors, metadata);
      const parsed = parseSafetensors(bytes);
      assert.deepEqual(parsed.metadata, { ...metadata });
      assert.deepEqual(new Set(parsed.tensors.keys()), new Set(Object.keys(tensors)));
      for (const [name, tensor] of Object.entries(tensors)) {
        const got = parsed.tensors.get(name)!;
        assert.equal(got.dtype, tensor.dtype);
        assert.deepEqual(got.shape, tensor.shape);
        assert.deepEqual(got.data, rawBytes(tensor));
      }
    }),
    { numRuns: 200 },
  );
});

test("serializeSafetensors() pads to 8 bytes, aligns every tensor, and is stable under a round trip", () => {
  fc.assert(
    fc.property(tensorsArb, metadataArb, (tensors, metadata) => {
      const bytes = serializeSafetensors(tensors, metadata);
      const view = new DataView(bytes.buffer, bytes.byteOffset);
      const headerLength = Number(view.getBigUint64(0, true));
      assert.equal(headerLength % 8, 0);
      const text = new TextDecoder().decode(bytes.subarray(8, 8 + headerLength));
      assert.match(text, /^\{.*\} {0,7}$/s);
      const parsed = parseSafetensors(bytes);
      let previous: { rank: number; name: string } | undefined;
      for (const [name, tensor] of parsed.tensors) {
        assert.equal(tensor.data.byteOffset % dtypeByteSize(tensor.dtype), 0, `tensor "${name}" is aligned`);
        const current = { rank: dtypeRank(tensor.dtype), name };
        if (previous !== undefined && tensor.data.byteLength > 0) {
          assert.ok(previous.rank > current.rank || (previous.rank === current.rank && compareCodePoints(previous.name, name) < 0));
        }
        if (tensor.data.byteLength > 0) previous = current;
      }
      assert.deepEqual(serializeSafetensors(parsed.tensors, metadata), bytes);
    }),
    { numRuns: 200 },
  );
});
