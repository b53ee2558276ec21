import assert from "node:assert/strict";
import { test } from "node:test";
import { toFloat32Array } from "@spo/safetensors";
import { openTorchCheckpointBytes } from "./openers.ts";
import { assertRejectsWith } from "./test/_assert_error.ts";
import { OP, PickleBuilder, type PickledTensor, pickleStateDict, pickleTensor } from "./testing/pickle_builder.ts";
import { serializeTorchCheckpoint } from "./testing/write_checkpoint.ts";
import { writeCheckpointZip, writeZip } from "./test/_zip_writer.ts";

/** A storage of `count` float32 values 0, 1, 2, … as bytes. */
function ramp(count: number): Uint8Array {
  return new Uint8Array(Float32Array.from({ length: count }, (_, i) => i).buffer);
}

/** The elements of a view, by the definition of strides: storage[offset + Σ index·stride]. */
function viewValues(shape: number[], strides: number[], offset: number): number[] {
  const values: number[] = [];
  const walk = (axis: number, at: number) => {
    if (axis === shape.length) return void values.push(at);
    for (let i = 0; i < shape[axis]!; i++) walk(axis + 1, at + i * strides[axis]!);
  };
  walk(0, offset);
  return values;
}

const F32 = (key: string, numel: number, rest: Partial<PickledTensor> & { shape: number[] }): PickledTensor => ({
  storageKey: key,
  storageClass: "FloatStorage",
  storageNumel: numel,
  ...rest,
});

const VIEWS: [string, PickledTensor][] = [
  ["rows", F32("0", 24, { shape: [2, 3], offset: 4 })],
  ["transposed", F32("0", 24, { shape: [3, 4], strides: [1, 3], offset: 2 })],
  ["expanded", F32("1", 3, { shape: [4, 3], strides: [0, 1] })],
  ["strided", F32("0", 24, { shape: [2, 2], strides: [6, 2], offset: 1 })],
  ["element", F32("0", 24, { shape: [], strides: [], offset: 23 })],
  ["param", { ...F32("0", 24, { shape: [24] }), isParameter: true }],
];

test("a checkpoint's views read as storage[offset + Σ index·stride], contiguous, in every source form", async () => {
  for (const options of [{}, { deflate: true }, { zip64: true }]) {
    const file = writeCheckpointZip(pickleStateDict(VIEWS), { "0": ramp(24), "1": ramp(3) }, options);
    await using checkpoint = await openTorchCheckpointBytes(file);
    assert.equal(checkpoint.format, "zip");
    assert.deepEqual(
      checkpoint.names,
      VIEWS.map(([name]) => name),
    );
    for (const [name, spec] of VIEWS) {
      const tensor = await checkpoint.tensor(name);
      assert.deepEqual(tensor.shape, spec.shape, name);
      const strides = spec.strides ?? (spec.shape.length === 2 ? [spec.shape[1]!, 1] : spec.shape.map(() => 1));
      assert.deepEqual(
        [...toFloat32Array(tensor)],
        viewValues(spec.shape, strides, spec.offset ?? 0),
        `${name} ${JSON.stringify(options)}`,
      );
    }
    const all = await checkpoint.readAll();
    for (const name of checkpoint.names) assert.deepEqual(all.get(name)!.data, (await checkpoint.tensor(name)).data, name);
  }
});

test("torchInfo() tells shared storages, offsets, strides and Parameters", async () => {
  const file = writeCheckpointZip(pickleStateDict(VIEWS), { "0": ramp(24), "1": ramp(3) });
  await using checkpoint = await openTorchCheckpointBytes(file);
  assert.deepEqual(checkpoint.torchInfo("transposed"), {
    storageKey: "0",
    storageOffset: 2,
    strides: [1, 3],
    requiresGrad: false,
    isParameter: false,
  });
  assert.equal(checkpoint.torchInfo("param").isParameter, true);
  assert.equal(checkpoint.torchInfo("expanded").storageKey, "1");
  assert.deepEqual(checkpoint.info("expanded").dataOffsets[1] - checkpoint.info("expanded").dataOffsets[0], 48);
});

test("stateDict() returns the tensors under state_dict without the prefix, values included", async () => {
  const builder = new PickleBuilder().op(OP.PROTO, 2, OP.EMPTY_DICT, OP.MARK).str("state_dict").op(OP.EMPTY_DICT, OP.MARK).str("model.w");
  pickleTensor(builder, F32("0", 4, { shape: [2, 2] }));
  builder.str("model.step").int(9).op(OP.SETITEMS).str("epoch").int(3).op(OP.SETITEMS, OP.STOP);
  await using checkpoint = await openTorchCheckpointBytes(writeCheckpointZip(builder.build(), { "0": ramp(4) }));
  assert.deepEqual(checkpoint.names, ["state_dict/model.w"]);
  assert.deepEqual(
    [...checkpoint.values],
    [
      ["state_dict/model.step", 9],
      ["epoch", 3],
    ],
  );
  assert.equal(checkpoint.hasStateDict, true);
  const weights = checkpoint.stateDict();
  assert.deepEqual(weights.names, ["model.w"]);
  assert.deepEqual([...weights.values], [["model.step", 9]]);
  assert.deepEqual([...(await weights.float32("model.w")).data], [0, 1, 2, 3]);
});

test("tensors that do not fit their storages are refused when opening, before any tensor is read", async () => {
  const open = (tensor: PickledTensor, storage: Uint8Array) =>
    openTorchCheckpointBytes(writeCheckpointZip(pickleStateDict([["t", tensor]]), { "0": storage }));
  await assertRejectsWith(
    open(F32("0", 24, { shape: [5, 5] }), ramp(24)),
    "invalid_tensor",
    /reach element 24, but storage "0" holds 24 elements/,
  );
  await assertRejectsWith(open(F32("0", 24, { shape: [2, 3], offset: 19 }), ramp(24)), "invalid_tensor", /reach element 24/);
  await assertRejectsWith(
    open(F32("0", 24, { shape: [24] }), ramp(20)),
    "invalid_storage",
    /declares 24 elements of F32 \(96 bytes\) but its record holds 80 bytes/,
  );
  await assertRejectsWith(open(F32("0", 24, { shape: [2, 2], strides: [2] }), ramp(24)), "invalid_tensor", /differ in length/);
  await assertRejectsWith(
    open(F32("0", 24, { shape: [2 ** 30, 2 ** 30, 2 ** 30], strides: [0, 0, 0] }), ramp(24)),
    "invalid_tensor",
    /more than 2\^53 elements/,
  );
  await assertRejectsWith(open(F32("0", 24, { shape: [2, -1] }), ramp(24)), "invalid_tensor", /size\[1\] is the int -1/);
  await assertRejectsWith(open(F32("7", 24, { shape: [2] }), ramp(24)), "missing_record", /no record archive\/data\/7/);
  await assertRejectsWith(
    open({ ...F32("0", 24, { shape: [2] }), storageClass: "ComplexFloatStorage" }, ramp(24)),
    "forbidden_global",
    /torch\.ComplexFloatStorage/,
  );
});

test("a tensor expanded from a small storage beyond maxExpandedByteLength is refused", async () => {
  const file = writeCheckpointZip(pickleStateDict([["wide", F32("0", 1, { shape: [1000, 1000], strides: [0, 0] })]]), { "0": ramp(1) });
  await assertRejectsWith(
    openTorchCheckpointBytes(file, { maxExpandedByteLength: 1 << 20 }),
    "limit_exceeded",
    /4000000 bytes, more than maxExpandedByteLength/,
  );
  await using allowed = await openTorchCheckpointBytes(file);
  assert.equal((await allowed.tensor("wide")).data.length, 4_000_000);
});

test("nesting bombs, exponential sharing and cycles are refused with typed errors", async () => {
  const deep = new PickleBuilder().op(OP.PROTO, 2, OP.NONE);
  for (let i = 0; i < 100_000; i++) deep.op(OP.TUPLE1);
  await assertRejectsWith(
    openTorchCheckpointBytes(writeCheckpointZip(deep.op(OP.STOP).build(), {})),
    "limit_exceeded",
    /nested more than 512 deep/,
  );
  const shared = new PickleBuilder().op(OP.PROTO, 2, OP.NONE);
  for (let i = 0; i < 64; i++) shared.op(OP.DUP, OP.TUPLE2);
  await assertRejectsWith(
    openTorchCheckpointBytes(writeCheckpointZip(shared.op(OP.STOP).build(), {})),
    "limit_exceeded",
    /more than \d+ entries/,
  );
  const deepKey = new PickleBuilder().op(OP.PROTO, 2, OP.EMPTY_DICT, OP.NONE);
  for (let i = 0; i < 100_000; i++) deepKey.op(OP.TUPLE1);
  await assertRejectsWith(
    openTorchCheckpointBytes(writeCheckpointZip(deepKey.op(OP.NONE, OP.SETITEM, OP.STOP).build(), {})),
    "limit_exceeded",
    /tuple nested more than 512 deep/,
  );
  const cycle = new PickleBuilder().op(OP.PROTO, 2, OP.EMPTY_LIST, OP.DUP, OP.APPEND, OP.STOP).build();
  await assertRejectsWith(openTorchCheckpointBytes(writeCheckpointZip(cycle, {})), "corrupt_pickle", /"0" contains itself/);
});

test("files that are not checkpoints are refused with the format they are in", async () => {
  await assertRejectsWith(openTorchCheckpointBytes(new Uint8Array(600)), "not_a_checkpoint", /neither a zip archive/);
  const safetensors = new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d]);
  await assertRejectsWith(openTorchCheckpointBytes(safetensors), "not_a_checkpoint", /looks like safetensors/);
  const tar = new Uint8Array(1024);
  tar.set(new TextEncoder().encode("ustar"), 257);
  await assertRejectsWith(openTorchCheckpointBytes(tar), "unsupported_format", /tar format of PyTorch before 0\.4/);
  const script = writeZip([
    { name: "m/constants.pkl", bytes: new Uint8Array([0x80, 2, 0x4e, 0x2e]) },
    { name: "m/code/m.py", bytes: new Uint8Array(1) },
  ]);
  await assertRejectsWith(openTorchCheckpointBytes(script), "unsupported_format", /TorchScript archive/);
  const bigEndian = writeZip([
    { name: "a/data.pkl", bytes: new Uint8Array([0x80, 2, 0x4e, 0x2e]) },
    { name: "a/byteorder", bytes: new TextEncoder().encode("big") },
  ]);
  await assertRejectsWith(openTorchCheckpointBytes(bigEndian), "unsupported_format", /"big"-endian/);
  await assertRejectsWith(
    openTorchCheckpointBytes(writeZip([{ name: "x.txt", bytes: new Uint8Array(3) }])),
    "missing_record",
    /no <name>\/data\.pkl/,
  );
});

test("reading from a closed checkpoint throws", async () => {
  const checkpoint = await openTorchCheckpointBytes(writeCheckpointZip(pickleStateDict(VIEWS), { "0": ramp(24), "1": ramp(3) }));
  await checkpoint.close();
  await assert.rejects(checkpoint.tensor("rows"), /closed/);
});

test("serializeTorchCheckpoint() (the testing helper) writes checkpoints this reader reads back", async () => {
  const tensors = {
    "a.weight": { dtype: "F16" as const, shape: [2], data: new Uint16Array([0x3c00, 0xc000]) },
    b: { dtype: "I64" as const, shape: [1], data: new BigInt64Array([-3n]) },
  };
  await using plain = await openTorchCheckpointBytes(serializeTorchCheckpoint(tensors, { values: { epoch: 2 } }));
  assert.deepEqual(plain.names, ["a.weight", "b"]);
  assert.deepEqual([...toFloat32Array(await plain.tensor("a.weight"))], [1, -2]);
  assert.equal(plain.values.get("epoch"), 2);
  await using wrapped = await openTorchCheckpointBytes(serializeTorchCheckpoint(tensors, { wrapInStateDict: true }));
  assert.deepEqual(wrapped.stateDict().names, ["a.weight", "b"]);
  assert.deepEqual((await wrapped.stateDict().tensor("b")).data, new Uint8Array(new BigInt64Array([-3n]).buffer));
});
