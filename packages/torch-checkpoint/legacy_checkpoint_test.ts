import assert from "node:assert/strict";
import { test } from "node:test";
import { toFloat32Array } from "@spo/safetensors";
import { openTorchCheckpointBytes } from "./openers.ts";
import { assertRejectsWith } from "./test/_assert_error.ts";
import { OP, PickleBuilder } from "./testing/pickle_builder.ts";

const MAGIC = 0x1950a86a20f9469cfc6cn;

interface LegacyTensor {
  name: string;
  key: string;
  numel: number;
  shape: number[];
  strides: number[];
  offset: number;
  /** `(view_key, offset, size)` of a storage view (PyTorch < 1.0). */
  view?: [string, number, number];
}

/** The legacy layout: magic, protocol 1001, sys_info, the state dict, the key list, then each storage as an i64 count and its bytes. */
function legacyFile(
  tensors: LegacyTensor[],
  storages: [string, Float32Array][],
  options: { littleEndian?: boolean; padding?: number } = {},
): Uint8Array {
  const header = new PickleBuilder().op(OP.PROTO, 2).int(MAGIC).op(OP.STOP, OP.PROTO, 2).int(1001).op(OP.STOP);
  header
    .op(OP.PROTO, 2, OP.EMPTY_DICT, OP.MARK)
    .str("protocol_version")
    .int(1001)
    .str("little_endian")
    .op(options.littleEndian === false ? OP.NEWFALSE : OP.NEWTRUE, OP.SETITEMS, OP.STOP);
  const main = header.op(OP.PROTO, 2).global("collections", "OrderedDict").op(OP.EMPTY_TUPLE, OP.REDUCE, OP.MARK);
  for (const tensor of tensors) {
    main.str(tensor.name).global("torch._utils", "_rebuild_tensor_v2");
    main
      .tuple(
        (b) =>
          b
            .tuple(
              (s) => s.str("storage"),
              (s) => s.global("torch", "FloatStorage"),
              (s) => s.str(tensor.key),
              (s) => s.str("cpu"),
              (s) => s.int(tensor.numel),
              (s) => {
                if (tensor.view === undefined) s.op(OP.NONE);
                else
                  s.tuple(
                    (v) => v.str(tensor.view![0]),
                    (v) => v.int(tensor.view![1]),
                    (v) => v.int(tensor.view![2]),
                  );
              },
            )
            .op(OP.BINPERSID),
        (b) => b.int(tensor.offset),
        (b) => b.tuple(...tensor.shape.map((size) => (s: PickleBuilder) => s.int(size))),
        (b) => b.tuple(...tensor.strides.map((stride) => (s: PickleBuilder) => s.int(stride))),
        (b) => b.op(OP.NEWFALSE),
        (b) => b.global("collections", "OrderedDict").op(OP.EMPTY_TUPLE, OP.REDUCE),
      )
      .op(OP.REDUCE);
  }
  if (options.padding !== undefined) main.str("padding").str("x".repeat(options.padding));
  main.op(OP.SETITEMS, OP.STOP, OP.PROTO, 2, OP.EMPTY_LIST, OP.MARK);
  for (const [key] of storages) main.str(key);
  main.op(OP.APPENDS, OP.STOP);
  const parts: number[] = [...main.build()];
  for (const [, values] of storages) {
    const count = new Uint8Array(new BigInt64Array([BigInt(values.length)]).buffer);
    parts.push(...count, ...new Uint8Array(values.buffer));
  }
  return new Uint8Array(parts);
}

const ramp = (count: number, from = 0) => Float32Array.from({ length: count }, (_, i) => from + i);

test("legacy files: tensors from sequential storages, views of storages, views of tensors", async () => {
  const file = legacyFile(
    [
      { name: "w", key: "a", numel: 6, shape: [2, 3], strides: [3, 1], offset: 0 },
      { name: "w_t", key: "a", numel: 6, shape: [3, 2], strides: [1, 3], offset: 0 },
      { name: "tail", key: "b", numel: 8, shape: [3], strides: [1], offset: 1, view: ["b_view", 4, 4] },
    ],
    [
      ["a", ramp(6)],
      ["b", ramp(8, 100)],
    ],
  );
  await using checkpoint = await openTorchCheckpointBytes(file);
  assert.equal(checkpoint.format, "legacy");
  assert.deepEqual([...toFloat32Array(await checkpoint.tensor("w"))], [0, 1, 2, 3, 4, 5]);
  assert.deepEqual([...toFloat32Array(await checkpoint.tensor("w_t"))], [0, 3, 1, 4, 2, 5]);
  // the view starts at element 4 of storage b, the tensor at element 1 of the view
  assert.deepEqual([...toFloat32Array(await checkpoint.tensor("tail"))], [105, 106, 107]);
});

test("legacy files whose pickles pass the first read (64 KiB) are read with a longer prefix", async () => {
  const file = legacyFile([{ name: "w", key: "a", numel: 2, shape: [2], strides: [1], offset: 0 }], [["a", ramp(2, 7)]], {
    padding: 200_000,
  });
  await using checkpoint = await openTorchCheckpointBytes(file);
  assert.deepEqual([...toFloat32Array(await checkpoint.tensor("w"))], [7, 8]);
  assert.equal((checkpoint.values.get("padding") as string).length, 200_000);
});

test("legacy files with storages cut short, miscounted, big-endian or a view past its storage are refused", async () => {
  const good = legacyFile([{ name: "w", key: "a", numel: 6, shape: [6], strides: [1], offset: 0 }], [["a", ramp(6)]]);
  await assertRejectsWith(openTorchCheckpointBytes(good.subarray(0, good.length - 4)), "truncated", /storage "a": it ends at byte/);
  const miscounted = good.slice();
  new DataView(miscounted.buffer).setBigInt64(good.length - 24 - 8, 5n, true);
  await assertRejectsWith(openTorchCheckpointBytes(miscounted), "invalid_storage", /holds 5 elements, its tensors declare 6/);
  const bigEndian = legacyFile([{ name: "w", key: "a", numel: 6, shape: [6], strides: [1], offset: 0 }], [["a", ramp(6)]], {
    littleEndian: false,
  });
  await assertRejectsWith(openTorchCheckpointBytes(bigEndian), "unsupported_format", /big-endian/);
  const badView = legacyFile([{ name: "w", key: "a", numel: 6, shape: [2], strides: [1], offset: 0, view: ["v", 5, 2] }], [["a", ramp(6)]]);
  await assertRejectsWith(openTorchCheckpointBytes(badView), "invalid_storage", /does not fit its 6 elements/);
  const notMagic = new PickleBuilder().op(OP.PROTO, 2).int(12345).op(OP.STOP).build();
  await assertRejectsWith(openTorchCheckpointBytes(notMagic), "not_a_checkpoint", /legacy magic number/);
});
