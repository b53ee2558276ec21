import assert from "node:assert/strict";
import { test } from "node:test";
import { TorchCheckpointError, type TorchCheckpointErrorCode } from "../errors.ts";
import { OP, PickleBuilder } from "../testing/pickle_builder.ts";
import { unpickle } from "./pickle_machine.ts";
import type { PyDict, PyList, PySet, PyTuple, PyValue } from "./py_values.ts";

const noPersistent = () => {
  throw new Error("no persistent id expected");
};

function run(bytes: Uint8Array | number[]): PyValue {
  return unpickle(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes), noPersistent).value;
}

function refuse(bytes: Uint8Array | number[], code: TorchCheckpointErrorCode, message: RegExp): TorchCheckpointError {
  try {
    run(bytes);
  } catch (error) {
    assert.ok(error instanceof TorchCheckpointError, String(error));
    assert.equal(error.code, code, error.message);
    assert.match(error.message, message);
    return error;
  }
  assert.fail("expected a refusal");
}

const ascii = (text: string) => [...new TextEncoder().encode(text)];

test("unpickle() builds numbers, strings, bytes and containers of protocol 2", () => {
  const bytes = new PickleBuilder()
    .op(OP.PROTO, 2, OP.EMPTY_DICT, OP.MARK)
    .str("int")
    .int(-5)
    .str("big")
    .int(2n ** 70n)
    .str("neg")
    .int(-(2n ** 40n))
    .str("float")
    .float(0.1)
    .str("none")
    .op(OP.NONE)
    .str("flag")
    .op(OP.NEWTRUE)
    .str("list")
    .op(OP.EMPTY_LIST, OP.MARK)
    .int(1)
    .int(2)
    .op(OP.APPENDS)
    .str("pair")
    .int(3)
    .op(OP.NEWFALSE, OP.TUPLE2)
    .op(OP.SETITEMS, OP.STOP)
    .build();
  const dict = run(bytes) as PyDict;
  assert.equal(dict.get("int"), -5);
  assert.equal(dict.get("big"), 2n ** 70n);
  assert.equal(dict.get("neg"), -(2 ** 40));
  assert.equal(dict.get("float"), 0.1);
  assert.equal(dict.get("none"), null);
  assert.equal(dict.get("flag"), true);
  assert.deepEqual((dict.get("list") as PyList).items, [1, 2]);
  assert.deepEqual((dict.get("pair") as PyTuple).items, [3, false]);
});

test("unpickle() reads protocol 0 text opcodes, memo by PUT/GET and DICT", () => {
  const text = "(dp0\nS'a'\np1\nI42\nsS'b'\np2\nF1.5\nsS'c'\np3\nL12345678901234567890L\nsS'd'\np4\nVcaf\\u00e9\nsS'e'\np5\ng1\ns.";
  const dict = run(ascii(text)) as PyDict;
  assert.equal(dict.get("a"), 42);
  assert.equal(dict.get("b"), 1.5);
  assert.equal(dict.get("c"), 12345678901234567890n);
  assert.equal(dict.get("d"), "café");
  assert.equal(dict.get("e"), "a");
});

test("unpickle() reads protocol 4/5 framing, MEMOIZE, STACK_GLOBAL, sets and bytes", () => {
  const body = new PickleBuilder()
    .op(OP.SHORT_BINUNICODE, 11)
    .raw(ascii("collections"))
    .op(OP.MEMOIZE)
    .op(OP.SHORT_BINUNICODE, 11)
    .raw(ascii("OrderedDict"))
    .op(OP.MEMOIZE, OP.STACK_GLOBAL, OP.EMPTY_TUPLE, OP.REDUCE, OP.MEMOIZE, OP.MARK)
    .op(OP.SHORT_BINUNICODE, 1)
    .raw(ascii("s"))
    .op(0x8f, OP.MARK)
    .int(1)
    .int(2)
    .op(0x90)
    .op(OP.SHORT_BINUNICODE, 1)
    .raw(ascii("b"))
    .op(0x43, 3, 1, 2, 3)
    .op(OP.SHORT_BINUNICODE, 1)
    .raw(ascii("k"))
    .op(OP.BINGET, 0)
    .op(OP.SETITEMS, OP.STOP)
    .build();
  const frame = new PickleBuilder().op(OP.PROTO, 5, OP.FRAME).raw([body.length, 0, 0, 0, 0, 0, 0, 0]).raw(body).build();
  const dict = run(frame) as PyDict;
  assert.deepEqual((dict.get("s") as PySet).items, [1, 2]);
  assert.deepEqual(dict.get("b"), new Uint8Array([1, 2, 3]));
  assert.equal(dict.get("k"), "collections");
});

test("unpickle() refuses globals off the allow-list by their Python 3 name, on sight", () => {
  refuse(new PickleBuilder().op(OP.PROTO, 2).global("posix", "system").op(OP.STOP).build(), "forbidden_global", /posix\.system/);
  const error = refuse(new PickleBuilder().op(OP.PROTO, 2).global("__builtin__", "eval").build(), "forbidden_global", /builtins\.eval/);
  assert.equal(error.globalName, "builtins.eval");
  refuse([0x80, 4, 0x8c, 8, ...ascii("builtins"), 0x8c, 7, ...ascii("getattr"), 0x93], "forbidden_global", /builtins\.getattr/);
  refuse(
    new PickleBuilder().op(OP.PROTO, 2).global("torch.nn.modules.linear", "Linear").build(),
    "forbidden_global",
    /model object, not a state dict/,
  );
  refuse(ascii("(ios\nsystem\nS'ls'\n."), "forbidden_global", /os\.system/);
});

test("unpickle() refuses to call names that are allowed only as values, and BUILD on non-dicts", () => {
  refuse(
    new PickleBuilder().op(OP.PROTO, 2).global("torch", "FloatStorage").op(OP.EMPTY_TUPLE, OP.REDUCE).build(),
    "forbidden_call",
    /torch\.FloatStorage/,
  );
  refuse(new PickleBuilder().op(OP.PROTO, 2).int(3).op(OP.EMPTY_TUPLE, OP.REDUCE).build(), "forbidden_call", /the int 3/);
  refuse(new PickleBuilder().op(OP.PROTO, 2, OP.EMPTY_LIST, OP.EMPTY_DICT, OP.BUILD).build(), "forbidden_call", /only dicts take a state/);
  refuse(
    new PickleBuilder()
      .op(OP.PROTO, 2)
      .global("_codecs", "encode")
      .tuple(
        (b) => b.str("x"),
        (b) => b.str("rot13"),
      )
      .op(OP.REDUCE)
      .build(),
    "forbidden_call",
    /latin1/,
  );
});

test("unpickle() refuses malformed pickles with typed errors", () => {
  refuse([0x80, 2, 0x68, 7], "corrupt_pickle", /memo entry 7 is read before it is written/);
  refuse([0x80, 2, 0x58, 0xff, 0xff, 0, 0], "truncated", /ends at byte 7 inside BINUNICODE/);
  refuse([0x80, 2, 0x8d, 0, 0, 0, 0, 0, 0, 0, 0x80], "truncated", /BINUNICODE8/);
  refuse([0x80, 2, 0x8b, 0, 0, 0, 1], "limit_exceeded", /16777216-byte integer/);
  refuse([0x80, 2, 0x2e], "corrupt_pickle", /STOP .* empty stack/);
  refuse([0x80, 2, 0x74], "corrupt_pickle", /no mark/);
  refuse([0x80, 2, 0xff], "corrupt_pickle", /unknown opcode 0xff/);
  refuse([0x80, 6], "corrupt_pickle", /protocol 6/);
  refuse([0x80, 2, 0x82, 1], "unsupported_opcode", /extension registry/);
  refuse([0x80, 5, 0x97], "unsupported_opcode", /out-of-band/);
  refuse([0x80, 2, 0x4b, 1, 0x4b, 2, 0x61], "corrupt_pickle", /appends to the int 1/);
  refuse([0x80, 2, 0x4b, 1, 0x61], "corrupt_pickle", /APPEND finds no value/);
  refuse([0x80, 2], "truncated", /ends at byte 2/);
});

test("unpickle() hands persistent ids to the caller and returns where STOP ended", () => {
  const bytes = new PickleBuilder().op(OP.PROTO, 2).str("key").op(OP.BINPERSID, OP.STOP).int(7).op(OP.STOP).build();
  const seen: PyValue[] = [];
  const first = unpickle(bytes, (pid) => (seen.push(pid), "loaded"));
  assert.deepEqual(seen, ["key"]);
  assert.equal(first.value, "loaded");
  assert.equal(unpickle(bytes, noPersistent, first.end).value, 7);
});

test("unpickle() keeps memory linear: a list appended to itself is one object", () => {
  const builder = new PickleBuilder().op(OP.PROTO, 2, OP.EMPTY_LIST, OP.BINPUT, 0);
  for (let i = 0; i < 1000; i++) builder.op(OP.BINGET, 0, OP.APPEND);
  const list = run(builder.op(OP.STOP).build()) as PyList;
  assert.equal(list.items.length, 1000);
  assert.equal(list.items[999], list);
});

test("unpickle() reads NumPy scalars (numpy.core.multiarray.scalar of a little-endian dtype) as numbers", () => {
  const scalar = (code: string, bytes: number[], order = "<") =>
    new PickleBuilder()
      .op(OP.PROTO, 2)
      .global("numpy.core.multiarray", "scalar")
      .global("numpy", "dtype")
      .tuple(
        (b) => b.str(code),
        (b) => b.op(OP.NEWFALSE),
        (b) => b.op(OP.NEWTRUE),
      )
      .op(OP.REDUCE)
      .tuple(
        (b) => b.int(3),
        (b) => b.str(order),
        (b) => b.op(OP.NONE),
      )
      .op(OP.BUILD)
      .global("_codecs", "encode")
      .tuple(
        (b) => b.str(String.fromCharCode(...bytes)),
        (b) => b.str("latin1"),
      )
      .op(OP.REDUCE)
      .op(OP.TUPLE2, OP.REDUCE, OP.STOP)
      .build();
  assert.equal(run(scalar("f8", [...new Uint8Array(new Float64Array([0.125]).buffer)])), 0.125);
  assert.equal(run(scalar("i8", [...new Uint8Array(new BigInt64Array([-7n]).buffer)])), -7);
  assert.equal(run(scalar("f2", [0x00, 0x3c])), 1);
  refuse(scalar("f8", [0, 0, 0, 0, 0, 0, 0, 0], ">"), "unsupported_format", /only little-endian/);
  refuse(scalar("O8", [0]), "forbidden_call", /not a numeric scalar type/);
});
