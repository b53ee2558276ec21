import assert from "node:assert/strict";
import { test } from "node:test";
import { crc32 as zlibCrc32, inflateSync } from "node:zlib";
import fc from "fast-check";
import { fcRuns } from "@spo/wgpu-tensor/testing";
import { crc32, PNG_SIGNATURE } from "./png.ts";
import { toPng } from "./png_node.ts";

/** The chunks of a PNG file, each checked against its CRC, read by the spec rather than by our writer. */
function readChunks(png: Uint8Array): { type: string; data: Uint8Array }[] {
  assert.deepEqual(png.subarray(0, 8), PNG_SIGNATURE);
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const chunks = [];
  for (let at = 8; at < png.length; ) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    const data = png.subarray(at + 8, at + 8 + length);
    assert.equal(view.getUint32(at + 8 + length), zlibCrc32(png.subarray(at + 4, at + 8 + length)), `CRC of ${type}`);
    chunks.push({ type, data });
    at += 12 + length;
  }
  return chunks;
}

const images = fc
  .record({ width: fc.integer({ min: 1, max: 9 }), height: fc.integer({ min: 1, max: 9 }) })
  .chain(({ width, height }) =>
    fc
      .uint8Array({ minLength: width * height * 4, maxLength: width * height * 4 })
      .map((bytes) => ({ width, height, data: new Uint8ClampedArray(bytes) })),
  );

test("CRC-32 matches node:zlib's on any bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => crc32(bytes) === zlibCrc32(bytes)),
    { numRuns: fcRuns() },
  );
});

test("a PNG holds IHDR, the text entries in order, the rows behind filter byte 0, and IEND", () => {
  fc.assert(
    fc.property(images, (image) => {
      const chunks = readChunks(toPng(image, { parameters: "a red fox\nSteps: 20", Software: "spo" }));
      assert.deepEqual(
        chunks.map((c) => c.type),
        ["IHDR", "tEXt", "tEXt", "IDAT", "IEND"],
      );
      const header = new DataView(chunks[0]!.data.buffer, chunks[0]!.data.byteOffset, 13);
      assert.deepEqual(
        [header.getUint32(0), header.getUint32(4), chunks[0]!.data[8], chunks[0]!.data[9]],
        [image.width, image.height, 8, 6],
      );
      assert.equal(new TextDecoder("latin1").decode(chunks[1]!.data), "parameters\0a red fox\nSteps: 20");
      const raw = inflateSync(chunks[3]!.data);
      const stride = image.width * 4;
      for (let y = 0; y < image.height; y++) {
        assert.equal(raw[y * (stride + 1)], 0);
        assert.deepEqual(
          [...raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1))],
          [...image.data.subarray(y * stride, (y + 1) * stride)],
        );
      }
    }),
    { numRuns: fcRuns() },
  );
});

test("bad input is refused with the reason: wrong byte count, a bad keyword, text outside Latin-1", () => {
  const image = { width: 2, height: 2, data: new Uint8ClampedArray(16) };
  assert.throws(() => toPng({ ...image, data: new Uint8ClampedArray(15) }), /expected 16 RGBA bytes, got 15/);
  assert.throws(() => toPng(image, { "": "x" }), /keyword is 1–79 Latin-1/);
  assert.throws(() => toPng(image, { parameters: "猫" }), /outside Latin-1/);
});
