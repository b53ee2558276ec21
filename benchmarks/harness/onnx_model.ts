// A tiny ONNX writer: enough of onnx.proto (ModelProto → GraphProto → NodeProto, float32 inputs,
// float32 initializers, int/float/ints attributes) to build one-node models for the ORT peer.
// Protobuf wire format: each field is a varint key (field number << 3 | wire type) then a varint
// (type 0), a 4-byte little-endian value (type 5) or a varint length and that many bytes (type 2).

/** ONNX TensorProto.DataType of float32. */
const FLOAT = 1;
/** AttributeProto.AttributeType values. */
const ATTRIBUTE_TYPE = { float: 1, int: 2, ints: 7 } as const;

/** A graph input or initializer: a float32 tensor of a fixed shape. */
export interface OnnxValue {
  name: string;
  shape: readonly number[];
}

/** An initializer is a graph constant: its values travel in the model. */
export interface OnnxInitializer extends OnnxValue {
  values: Float32Array;
}

/** One node of the graph, in execution order. */
export interface OnnxNode {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  /** `{ axis: 1 }` is an int, `{ alpha: { float: 1 } }` a float, `{ pads: [1, 1, 1, 1] }` ints. */
  attributes?: Record<string, number | { float: number } | readonly number[]>;
}

export interface OnnxGraph {
  nodes: readonly OnnxNode[];
  inputs: readonly OnnxValue[];
  outputs: readonly OnnxValue[];
  initializers?: readonly OnnxInitializer[];
  /** Default opset of the "" domain: 17 (Softmax on one axis since 13). */
  opset?: number;
}

/** Bytes of one protobuf message, built field by field. */
class Message {
  readonly #bytes: number[] = [];

  varint(field: number, value: number): this {
    this.#key(field, 0);
    this.#varint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.#key(field, 5);
    this.#bytes.push(...new Uint8Array(new Float32Array([value]).buffer));
    return this;
  }

  bytes(field: number, value: Uint8Array | Message): this {
    const data = value instanceof Message ? value.toBytes() : value;
    this.#key(field, 2);
    this.#varint(data.length);
    for (const byte of data) this.#bytes.push(byte);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  toBytes(): Uint8Array {
    return Uint8Array.from(this.#bytes);
  }

  #key(field: number, wireType: number): void {
    this.#varint(field * 8 + wireType);
  }

  /** Integers of |value| < 2^53; a negative one is its 64-bit two's complement (int64 fields, 10 bytes). */
  #varint(value: number): void {
    if (!Number.isSafeInteger(value)) throw new RangeError(`Cannot encode varint: ${value} is not a safe integer`);
    let rest = BigInt.asUintN(64, BigInt(value));
    while (rest >= 0x80n) {
      this.#bytes.push(Number(rest & 0x7fn) | 0x80);
      rest >>= 7n;
    }
    this.#bytes.push(Number(rest));
  }
}

/** ValueInfoProto { name = 1, type = 2 { tensor_type = 1 { elem_type = 1, shape = 2 { dim = 1 { dim_value = 1 } } } } } */
function valueInfo(value: OnnxValue): Message {
  const shape = new Message();
  for (const size of value.shape) shape.bytes(1, new Message().varint(1, size));
  const tensorType = new Message().varint(1, FLOAT).bytes(2, shape);
  return new Message().string(1, value.name).bytes(2, new Message().bytes(1, tensorType));
}

/** TensorProto { dims = 1, data_type = 2, name = 8, raw_data = 9 (little-endian floats) }. */
function tensorProto(initializer: OnnxInitializer): Message {
  const message = new Message();
  for (const size of initializer.shape) message.varint(1, size);
  const values = initializer.values;
  return message
    .varint(2, FLOAT)
    .string(8, initializer.name)
    .bytes(9, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
}

/** AttributeProto { name = 1, f = 2, i = 3, ints = 8, type = 20 }. */
function attribute(name: string, value: number | { float: number } | readonly number[]): Message {
  const message = new Message().string(1, name);
  if (typeof value === "number") return message.varint(3, value).varint(20, ATTRIBUTE_TYPE.int);
  if ("float" in value) return message.float(2, value.float).varint(20, ATTRIBUTE_TYPE.float);
  for (const item of value) message.varint(8, item);
  return message.varint(20, ATTRIBUTE_TYPE.ints);
}

/** NodeProto { input = 1, output = 2, name = 3, op_type = 4, attribute = 5 }. */
function nodeProto(node: OnnxNode, index: number): Message {
  const message = new Message();
  for (const input of node.inputs) message.string(1, input);
  for (const output of node.outputs) message.string(2, output);
  message.string(3, `${node.opType.toLowerCase()}_${index}`).string(4, node.opType);
  for (const [name, value] of Object.entries(node.attributes ?? {})) message.bytes(5, attribute(name, value));
  return message;
}

/**
 * Serializes a float32 graph as an ONNX ModelProto (IR version 8), ready for
 * `InferenceSession.create(bytes)`.
 *
 * @example
 * ```ts
 * const model = onnxModel({
 *   nodes: [{ opType: "MatMul", inputs: ["a", "b"], outputs: ["y"] }],
 *   inputs: [{ name: "a", shape: [2, 3] }, { name: "b", shape: [3, 4] }],
 *   outputs: [{ name: "y", shape: [2, 4] }],
 * });
 * model instanceof Uint8Array; // true
 * ```
 */
export function onnxModel(graph: OnnxGraph): Uint8Array {
  // GraphProto { node = 1, name = 2, initializer = 5, input = 11, output = 12 }
  const graphMessage = new Message();
  graph.nodes.forEach((node, index) => graphMessage.bytes(1, nodeProto(node, index)));
  graphMessage.string(2, "bench");
  for (const initializer of graph.initializers ?? []) graphMessage.bytes(5, tensorProto(initializer));
  for (const input of graph.inputs) graphMessage.bytes(11, valueInfo(input));
  for (const output of graph.outputs) graphMessage.bytes(12, valueInfo(output));
  // ModelProto { ir_version = 1, producer_name = 2, graph = 7, opset_import = 8 { domain = 1, version = 2 } }
  const opset = new Message().string(1, "").varint(2, graph.opset ?? 17);
  return new Message().varint(1, 8).string(2, "spo-benchmarks").bytes(7, graphMessage).bytes(8, opset).toBytes();
}
