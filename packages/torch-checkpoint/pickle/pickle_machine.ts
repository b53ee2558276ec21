/**
 * A pickle virtual machine for protocols 0–5 that builds only data. GLOBAL names are resolved
 * against the allow-list (anything else is refused on sight), REDUCE / NEWOBJ call only
 * allow-listed pure functions, persistent ids go to the caller (storages). Nothing is executed
 * and no JavaScript is evaluated. The stack, memo and outputs grow at most by one value per
 * opcode byte, so memory is bounded by the pickle's length.
 *
 * @module
 */

import { TorchCheckpointError } from "../errors.ts";
import { callGlobal, resolveGlobal } from "./allowed_globals.ts";
import { PickleReader } from "./pickle_reader.ts";
import { setNumpyDtypeState } from "./numpy_scalars.ts";
import { describePy, NumpyDtype, PyDict, PyGlobal, PyList, PySet, PyTuple, type PyValue } from "./py_values.ts";
import { parseFloatLine, parseIntLine, parseLongLine, parseStringLine, parseUnicodeLine } from "./text_opcodes.ts";

/** Turns a persistent id (a storage tuple in checkpoints) into a value. */
export type PersistentLoad = (pid: PyValue) => PyValue;

/** The value a pickle builds and where its STOP opcode ended. */
export interface UnpickleResult {
  value: PyValue;
  /** The byte after STOP: the legacy format puts the next pickle there. */
  end: number;
}

function corrupt(problem: string): TorchCheckpointError {
  return new TorchCheckpointError("corrupt_pickle", `Cannot read the pickle: ${problem}`);
}

const MARK = Symbol("mark");
type StackItem = PyValue | typeof MARK;

/** Runs one pickle from `start` to its STOP over `bytes`. */
export function unpickle(bytes: Uint8Array, persistentLoad: PersistentLoad, start = 0): UnpickleResult {
  return new PickleMachine(bytes, persistentLoad, start).run();
}

class PickleMachine {
  readonly #in: PickleReader;
  readonly #persistentLoad: PersistentLoad;
  readonly #stack: StackItem[] = [];
  readonly #memo = new Map<number, PyValue>();

  constructor(bytes: Uint8Array, persistentLoad: PersistentLoad, start: number) {
    this.#in = new PickleReader(bytes, start);
    this.#persistentLoad = persistentLoad;
  }

  run(): UnpickleResult {
    for (;;) {
      const at = this.#in.position;
      const opcode = this.#in.u8();
      if (opcode === 0x2e) return { value: this.#pop("STOP"), end: this.#in.position };
      this.#step(opcode, at);
    }
  }

  #push(value: PyValue): void {
    this.#stack.push(value);
  }

  #pop(op: string): PyValue {
    if (this.#stack.length === 0) throw corrupt(`${op} at byte ${this.#in.position - 1} finds an empty stack`);
    const value = this.#stack.pop()!;
    if (value === MARK) throw corrupt(`${op} at byte ${this.#in.position - 1} finds a mark where it expects a value`);
    return value;
  }

  #top(op: string): PyValue {
    const value = this.#stack[this.#stack.length - 1];
    if (value === undefined || value === MARK) throw corrupt(`${op} finds no value on the stack`);
    return value;
  }

  /** The values above the topmost mark, removing them and the mark. */
  #popMark(op: string): PyValue[] {
    const index = this.#stack.lastIndexOf(MARK);
    if (index < 0) throw corrupt(`${op} at byte ${this.#in.position - 1} finds no mark on the stack`);
    const items = this.#stack.splice(index + 1) as PyValue[];
    this.#stack.pop();
    return items;
  }

  #memoGet(index: number): PyValue {
    const value = this.#memo.get(index);
    if (value === undefined) throw corrupt(`memo entry ${index} is read before it is written`);
    return value;
  }

  #memoPut(index: number): void {
    this.#memo.set(index, this.#top("PUT"));
  }

  #step(opcode: number, at: number): void {
    const input = this.#in;
    switch (opcode) {
      // --- framing and protocol ---
      case 0x80: {
        // PROTO
        const protocol = input.u8("PROTO");
        if (protocol > 5) throw corrupt(`protocol ${protocol} is newer than 5`);
        return;
      }
      case 0x95: // FRAME: an 8-byte frame length; the frame's bytes follow and are read as usual
        input.u64("FRAME");
        return;
      // --- stack manipulation ---
      case 0x28:
        this.#stack.push(MARK);
        return; // MARK
      case 0x30:
        this.#pop("POP");
        return; // POP (a mark on top is an error)
      case 0x31:
        this.#popMark("POP_MARK");
        return; // POP_MARK
      case 0x32:
        this.#push(this.#top("DUP"));
        return; // DUP
      // --- constants and numbers ---
      case 0x4e:
        this.#push(null);
        return; // NONE
      case 0x88:
        this.#push(true);
        return; // NEWTRUE
      case 0x89:
        this.#push(false);
        return; // NEWFALSE
      case 0x49:
        this.#push(parseIntLine(input.line("INT")));
        return; // INT
      case 0x4a:
        this.#push(input.i32("BININT"));
        return; // BININT
      case 0x4b:
        this.#push(input.u8("BININT1"));
        return; // BININT1
      case 0x4d:
        this.#push(input.u16("BININT2"));
        return; // BININT2
      case 0x4c:
        this.#push(parseLongLine(input.line("LONG")));
        return; // LONG
      case 0x8a:
        this.#push(input.long(input.u8("LONG1"), "LONG1"));
        return; // LONG1
      case 0x8b: {
        // LONG4
        const count = input.i32("LONG4");
        if (count < 0) throw corrupt(`LONG4 at byte ${at} has a negative length`);
        this.#push(input.long(count, "LONG4"));
        return;
      }
      case 0x46:
        this.#push(parseFloatLine(input.line("FLOAT")));
        return; // FLOAT
      case 0x47:
        this.#push(input.f64("BINFLOAT"));
        return; // BINFLOAT
      // --- strings and bytes ---
      case 0x53:
        this.#push(parseStringLine(input.line("STRING")));
        return; // STRING
      case 0x54:
        this.#push(latin1(input.take(this.#length32(input.i32("BINSTRING"), at), "BINSTRING")));
        return; // BINSTRING
      case 0x55:
        this.#push(latin1(input.take(input.u8("SHORT_BINSTRING"), "SHORT_BINSTRING")));
        return; // SHORT_BINSTRING
      case 0x56:
        this.#push(parseUnicodeLine(input.line("UNICODE")));
        return; // UNICODE
      case 0x58:
        this.#push(input.utf8(input.u32("BINUNICODE"), "BINUNICODE"));
        return; // BINUNICODE
      case 0x8c:
        this.#push(input.utf8(input.u8("SHORT_BINUNICODE"), "SHORT_BINUNICODE"));
        return; // SHORT_BINUNICODE
      case 0x8d:
        this.#push(input.utf8(input.u64("BINUNICODE8"), "BINUNICODE8"));
        return; // BINUNICODE8
      case 0x42:
        this.#push(input.take(input.u32("BINBYTES"), "BINBYTES").slice());
        return; // BINBYTES
      case 0x43:
        this.#push(input.take(input.u8("SHORT_BINBYTES"), "SHORT_BINBYTES").slice());
        return; // SHORT_BINBYTES
      case 0x8e:
        this.#push(input.take(input.u64("BINBYTES8"), "BINBYTES8").slice());
        return; // BINBYTES8
      case 0x96:
        this.#push(input.take(input.u64("BYTEARRAY8"), "BYTEARRAY8").slice());
        return; // BYTEARRAY8
      // --- containers ---
      case 0x29:
        this.#push(new PyTuple([]));
        return; // EMPTY_TUPLE
      case 0x74:
        this.#push(new PyTuple(this.#popMark("TUPLE")));
        return; // TUPLE
      case 0x85:
        this.#push(new PyTuple(this.#popN(1, "TUPLE1")));
        return; // TUPLE1
      case 0x86:
        this.#push(new PyTuple(this.#popN(2, "TUPLE2")));
        return; // TUPLE2
      case 0x87:
        this.#push(new PyTuple(this.#popN(3, "TUPLE3")));
        return; // TUPLE3
      case 0x5d:
        this.#push(new PyList());
        return; // EMPTY_LIST
      case 0x6c:
        this.#push(new PyList(this.#popMark("LIST")));
        return; // LIST
      case 0x61:
        this.#append([this.#pop("APPEND")], "APPEND");
        return; // APPEND
      case 0x65:
        this.#append(this.#popMark("APPENDS"), "APPENDS");
        return; // APPENDS
      case 0x7d:
        this.#push(new PyDict());
        return; // EMPTY_DICT
      case 0x64:
        this.#push(dictOf(this.#popMark("DICT")));
        return; // DICT
      case 0x73: {
        // SETITEM
        const value = this.#pop("SETITEM");
        const key = this.#pop("SETITEM");
        this.#setItems([key, value], "SETITEM");
        return;
      }
      case 0x75:
        this.#setItems(this.#popMark("SETITEMS"), "SETITEMS");
        return; // SETITEMS
      case 0x8f:
        this.#push(new PySet());
        return; // EMPTY_SET
      case 0x90:
        this.#addItems(this.#popMark("ADDITEMS"));
        return; // ADDITEMS
      case 0x91:
        this.#push(new PySet(this.#popMark("FROZENSET")));
        return; // FROZENSET
      // --- memo ---
      case 0x70:
        this.#memoPut(this.#memoIndex(input.line("PUT")));
        return; // PUT
      case 0x71:
        this.#memoPut(input.u8("BINPUT"));
        return; // BINPUT
      case 0x72:
        this.#memoPut(input.u32("LONG_BINPUT"));
        return; // LONG_BINPUT
      case 0x94:
        this.#memoPut(this.#memo.size);
        return; // MEMOIZE
      case 0x67:
        this.#push(this.#memoGet(this.#memoIndex(input.line("GET"))));
        return; // GET
      case 0x68:
        this.#push(this.#memoGet(input.u8("BINGET")));
        return; // BINGET
      case 0x6a:
        this.#push(this.#memoGet(input.u32("LONG_BINGET")));
        return; // LONG_BINGET
      // --- globals and calls: allow-listed only ---
      case 0x63:
        this.#push(resolveGlobal(input.line("GLOBAL module"), input.line("GLOBAL name")));
        return; // GLOBAL
      case 0x93: {
        // STACK_GLOBAL
        const name = this.#pop("STACK_GLOBAL");
        const module = this.#pop("STACK_GLOBAL");
        if (typeof module !== "string" || typeof name !== "string") throw corrupt(`STACK_GLOBAL at byte ${at} expects two strings`);
        this.#push(resolveGlobal(module, name));
        return;
      }
      case 0x52: {
        // REDUCE: callable(*args)
        const args = this.#pop("REDUCE");
        const callable = this.#pop("REDUCE");
        this.#push(callGlobal(callable, tupleItems(args, "REDUCE")));
        return;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args)
        const args = this.#pop("NEWOBJ");
        const cls = this.#pop("NEWOBJ");
        this.#push(callGlobal(cls, tupleItems(args, "NEWOBJ")));
        return;
      }
      case 0x92: {
        // NEWOBJ_EX: cls.__new__(cls, *args, **kwargs)
        const kwargs = this.#pop("NEWOBJ_EX");
        const args = this.#pop("NEWOBJ_EX");
        const cls = this.#pop("NEWOBJ_EX");
        if (!(kwargs instanceof PyDict) || kwargs.size > 0)
          throw new TorchCheckpointError("forbidden_call", `Cannot call ${describePy(cls)} with keyword arguments`);
        this.#push(callGlobal(cls, tupleItems(args, "NEWOBJ_EX")));
        return;
      }
      case 0x69: {
        // INST: module, name on lines, args from the mark
        const cls = resolveGlobal(input.line("INST module"), input.line("INST name"));
        this.#push(callGlobal(cls, this.#popMark("INST")));
        return;
      }
      case 0x6f: {
        // OBJ: class and args from the mark
        const items = this.#popMark("OBJ");
        if (items.length === 0) throw corrupt(`OBJ at byte ${at} has no class`);
        this.#push(callGlobal(items[0]!, items.slice(1)));
        return;
      }
      case 0x62:
        this.#build();
        return; // BUILD
      // --- persistent ids: storages ---
      case 0x50:
        this.#push(this.#persistentLoad(input.line("PERSID")));
        return; // PERSID
      case 0x51:
        this.#push(this.#persistentLoad(this.#pop("BINPERSID")));
        return; // BINPERSID
      // --- what checkpoints never need ---
      case 0x82:
      case 0x83:
      case 0x84:
        throw new TorchCheckpointError(
          "unsupported_opcode",
          `Cannot read the pickle: EXT opcode 0x${opcode.toString(16)} at byte ${at} refers to the copyreg extension registry, which is not read`,
        );
      case 0x97:
      case 0x98:
        throw new TorchCheckpointError(
          "unsupported_opcode",
          `Cannot read the pickle: opcode 0x${opcode.toString(16)} at byte ${at} asks for an out-of-band buffer, which checkpoints do not use`,
        );
      default:
        throw corrupt(`unknown opcode 0x${opcode.toString(16).padStart(2, "0")} at byte ${at}`);
    }
  }

  #length32(length: number, at: number): number {
    if (length < 0) throw corrupt(`a negative length at byte ${at}`);
    return length;
  }

  #memoIndex(text: string): number {
    if (!/^\d{1,9}$/.test(text)) throw corrupt(`memo index ${JSON.stringify(text.slice(0, 20))} is not a small integer`);
    return Number(text);
  }

  #popN(count: number, op: string): PyValue[] {
    const items: PyValue[] = [];
    for (let i = 0; i < count; i++) items.unshift(this.#pop(op));
    return items;
  }

  #append(items: PyValue[], op: string): void {
    const target = this.#top(op);
    if (!(target instanceof PyList)) throw corrupt(`${op} appends to ${describePy(target)}, expected a list`);
    for (const item of items) target.items.push(item);
  }

  #setItems(items: PyValue[], op: string): void {
    const target = this.#top(op);
    if (!(target instanceof PyDict)) throw corrupt(`${op} sets items of ${describePy(target)}, expected a dict`);
    if (items.length % 2 !== 0) throw corrupt(`${op} has an odd number of keys and values`);
    for (let i = 0; i < items.length; i += 2) target.set(items[i]!, items[i + 1]!);
  }

  #addItems(items: PyValue[]): void {
    const target = this.#top("ADDITEMS");
    if (!(target instanceof PySet)) throw corrupt(`ADDITEMS adds to ${describePy(target)}, expected a set`);
    for (const item of items) target.items.push(item);
  }

  /** BUILD: `obj.__setstate__(state)`; only dict-like objects (merged as items) and NumPy dtypes (byte order) take a state. */
  #build(): void {
    const state = this.#pop("BUILD");
    const target = this.#top("BUILD");
    if (target instanceof PyDict && state instanceof PyDict) {
      for (const [key, value] of state.entries()) target.set(key, value);
      return;
    }
    if (target instanceof PyDict && state === null) return;
    if (target instanceof NumpyDtype) {
      setNumpyDtypeState(target, state);
      return;
    }
    const name = target instanceof PyGlobal ? target.name : describePy(target);
    throw new TorchCheckpointError("forbidden_call", `Cannot set the state of ${name}: only dicts take a state (BUILD) in a checkpoint`);
  }
}

function latin1(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]!);
  return text;
}

function tupleItems(args: PyValue, op: string): PyValue[] {
  if (!(args instanceof PyTuple)) throw corrupt(`${op} expects an argument tuple, got ${describePy(args)}`);
  return args.items;
}

function dictOf(items: PyValue[]): PyDict {
  if (items.length % 2 !== 0) throw corrupt("DICT has an odd number of keys and values");
  const dict = new PyDict();
  for (let i = 0; i < items.length; i += 2) dict.set(items[i]!, items[i + 1]!);
  return dict;
}
