// Assembles pickles opcode by opcode, independently of the machine under test, so
// tests can state exactly which bytes they feed it (PyTorch's layout of a state dict included).

/** Opcode bytes by name (pickletools' names). */
export const OP = {
  PROTO: 0x80,
  STOP: 0x2e,
  MARK: 0x28,
  POP: 0x30,
  DUP: 0x32,
  NONE: 0x4e,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  BININT: 0x4a,
  BININT1: 0x4b,
  BININT2: 0x4d,
  LONG1: 0x8a,
  BINFLOAT: 0x47,
  BINUNICODE: 0x58,
  SHORT_BINUNICODE: 0x8c,
  EMPTY_TUPLE: 0x29,
  TUPLE: 0x74,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  EMPTY_LIST: 0x5d,
  APPEND: 0x61,
  APPENDS: 0x65,
  EMPTY_DICT: 0x7d,
  SETITEM: 0x73,
  SETITEMS: 0x75,
  GLOBAL: 0x63,
  STACK_GLOBAL: 0x93,
  REDUCE: 0x52,
  BUILD: 0x62,
  NEWOBJ: 0x81,
  BINPUT: 0x71,
  BINGET: 0x68,
  MEMOIZE: 0x94,
  BINPERSID: 0x51,
  FRAME: 0x95,
  LONG_BINGET: 0x6a,
} as const;

/** Appends opcodes and their arguments to a growing byte list. */
export class PickleBuilder {
  readonly bytes: number[] = [];

  op(...codes: number[]): this {
    this.bytes.push(...codes);
    return this;
  }

  raw(bytes: ArrayLike<number>): this {
    for (let i = 0; i < bytes.length; i++) this.bytes.push(bytes[i]!);
    return this;
  }

  u32(value: number): this {
    return this.raw([value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff]);
  }

  /** An int with the smallest opcode that holds it (BININT1, BININT2, BININT, LONG1). */
  int(value: number | bigint): this {
    const big = BigInt(value);
    if (big >= 0n && big < 256n) return this.op(OP.BININT1, Number(big));
    if (big >= 0n && big < 65536n) return this.op(OP.BININT2, Number(big) & 0xff, Number(big) >> 8);
    if (big >= -(2n ** 31n) && big < 2n ** 31n) return this.op(OP.BININT).u32(Number(BigInt.asUintN(32, big)));
    const digits: number[] = [];
    let rest = big;
    do {
      digits.push(Number(BigInt.asUintN(8, rest)));
      rest >>= 8n;
    } while (!(rest === 0n && digits[digits.length - 1]! < 0x80) && !(rest === -1n && digits[digits.length - 1]! >= 0x80));
    return this.op(OP.LONG1, digits.length).raw(digits);
  }

  float(value: number): this {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setFloat64(0, value, false);
    return this.op(OP.BINFLOAT).raw(bytes);
  }

  str(text: string): this {
    const bytes = new TextEncoder().encode(text);
    return this.op(OP.BINUNICODE).u32(bytes.length).raw(bytes);
  }

  /** GLOBAL "module\nname\n" (protocol 2's form). */
  global(module: string, name: string): this {
    return this.op(OP.GLOBAL).raw(new TextEncoder().encode(`${module}\n${name}\n`));
  }

  /** MARK, the items (each a function adding its value), TUPLE. */
  tuple(...items: ((builder: this) => unknown)[]): this {
    this.op(OP.MARK);
    for (const item of items) item(this);
    return this.op(OP.TUPLE);
  }

  build(): Uint8Array {
    return new Uint8Array(this.bytes);
  }
}

/** How a test tensor lies in its storage (defaults: contiguous from element 0). */
export interface PickledTensor {
  storageKey: string;
  storageClass: string;
  storageNumel: number;
  shape: number[];
  strides?: number[];
  offset?: number;
  isParameter?: boolean;
}

function rowMajor(shape: number[]): number[] {
  const strides: number[] = [];
  let stride = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    strides.unshift(stride);
    stride *= shape[axis]!;
  }
  return strides;
}

/** `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())`, optionally inside `_rebuild_parameter`. */
export function pickleTensor(builder: PickleBuilder, tensor: PickledTensor): void {
  if (tensor.isParameter) builder.global("torch._utils", "_rebuild_parameter").op(OP.MARK);
  builder.global("torch._utils", "_rebuild_tensor_v2");
  builder.tuple(
    (b) =>
      b
        .tuple(
          (s) => s.str("storage"),
          (s) => s.global("torch", tensor.storageClass),
          (s) => s.str(tensor.storageKey),
          (s) => s.str("cpu"),
          (s) => s.int(tensor.storageNumel),
        )
        .op(OP.BINPERSID),
    (b) => b.int(tensor.offset ?? 0),
    (b) => b.tuple(...tensor.shape.map((size) => (s: PickleBuilder) => s.int(size))),
    (b) => b.tuple(...(tensor.strides ?? rowMajor(tensor.shape)).map((stride) => (s: PickleBuilder) => s.int(stride))),
    (b) => b.op(OP.NEWFALSE),
    (b) => b.global("collections", "OrderedDict").op(OP.EMPTY_TUPLE, OP.REDUCE),
  );
  builder.op(OP.REDUCE);
  if (tensor.isParameter) builder.op(OP.NEWTRUE).global("collections", "OrderedDict").op(OP.EMPTY_TUPLE, OP.REDUCE, OP.TUPLE, OP.REDUCE);
}

/** A whole protocol-2 pickle of `OrderedDict([(name, tensor), ...])`, as torch.save writes a state dict. */
export function pickleStateDict(tensors: [string, PickledTensor][]): Uint8Array {
  const builder = new PickleBuilder().op(OP.PROTO, 2).global("collections", "OrderedDict").op(OP.EMPTY_TUPLE, OP.REDUCE, OP.MARK);
  for (const [name, tensor] of tensors) {
    builder.str(name);
    pickleTensor(builder, tensor);
  }
  return builder.op(OP.SETITEMS, OP.STOP).build();
}
