import assert from "node:assert/strict";
import { test } from "node:test";
import { onnxModel } from "./onnx_model.ts";

/** The index of `needle` in `bytes`, or -1. */
function indexOf(bytes: Uint8Array, needle: readonly number[]): number {
  outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
    for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

const ascii = (text: string) => [...new TextEncoder().encode(text)];

test("onnxModel() starts with ir_version 8 and names the op type and opset 17", () => {
  const model = onnxModel({
    nodes: [{ opType: "MatMul", inputs: ["a", "b"], outputs: ["y"] }],
    inputs: [
      { name: "a", shape: [2, 3] },
      { name: "b", shape: [3, 4] },
    ],
    outputs: [{ name: "y", shape: [2, 4] }],
  });
  assert.deepEqual([...model.slice(0, 2)], [0x08, 8]); // field 1, varint: ir_version 8
  assert.notEqual(indexOf(model, [0x22, 6, ...ascii("MatMul")]), -1); // NodeProto.op_type (field 4, length 6)
  assert.deepEqual([...model.slice(-6)], [0x42, 4, 0x0a, 0, 0x10, 17]); // opset_import { domain "", version 17 }, last
});

test("onnxModel() writes a negative int attribute as a 10-byte int64 varint", () => {
  const model = onnxModel({
    nodes: [{ opType: "Softmax", inputs: ["x"], outputs: ["y"], attributes: { axis: -1 } }],
    inputs: [{ name: "x", shape: [2, 2] }],
    outputs: [{ name: "y", shape: [2, 2] }],
  });
  // AttributeProto { name "axis", i = -1 (field 3), type INT (field 20 → key 0xa0 0x01, value 2) }
  const attribute = [0x0a, 4, ...ascii("axis"), 0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0xa0, 0x01, 2];
  assert.notEqual(indexOf(model, attribute), -1);
});

test("onnxModel() stores initializers as raw little-endian float32 data", () => {
  const values = Float32Array.from([1, -2]);
  const model = onnxModel({
    nodes: [{ opType: "Add", inputs: ["x", "c"], outputs: ["y"] }],
    inputs: [{ name: "x", shape: [2] }],
    outputs: [{ name: "y", shape: [2] }],
    initializers: [{ name: "c", shape: [2], values }],
  });
  // TensorProto { dims 2, data_type FLOAT, name "c", raw_data (field 9, 8 bytes) }
  const tensor = [0x08, 2, 0x10, 1, 0x42, 1, ...ascii("c"), 0x4a, 8, ...new Uint8Array(values.buffer)];
  assert.notEqual(indexOf(model, tensor), -1);
});
