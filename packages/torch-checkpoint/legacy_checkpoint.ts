/**
 * PyTorch's legacy format (torch.save before 1.6, or `_use_new_zipfile_serialization=False`):
 * five pickles back to back (magic number, protocol version 1001, system info, the object, the
 * list of storage keys), then each storage as an 8-byte element count and its raw bytes.
 *
 * @module
 */

import { dtypeByteSize, type ByteSource } from "@spo/safetensors";
import { readExactly, sourceByteLength } from "./byte_source.ts";
import { TorchCheckpointError } from "./errors.ts";
import { unpickle } from "./pickle/pickle_machine.ts";
import { describePy, PyDict, PyList, PyTuple, type PyValue, StorageRef, TorchDtype } from "./pickle/py_values.ts";
import type { StorageStore } from "./storage_store.ts";
import type { LoadedPickle } from "./zip_checkpoint.ts";

/** The first pickle of a legacy file: this number. */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL_VERSION = 1001;
const FIRST_READ_BYTE_LENGTH = 64 * 1024;

function invalidStorage(problem: string): TorchCheckpointError {
  return new TorchCheckpointError("invalid_storage", `Cannot load a legacy storage: ${problem}`);
}

interface RootStorage {
  dtype: StorageRef["dtype"];
  numel: number;
  /** Where its bytes start in the file, once the storage records have been walked. */
  dataOffset: number;
}

/** Storages of a legacy file: root storages by key, views of them as element offsets. */
class LegacyStorageStore implements StorageStore {
  #isClosed = false;
  readonly #source: ByteSource;
  readonly roots = new Map<string, RootStorage>();

  constructor(source: ByteSource) {
    this.#source = source;
  }

  /** `('storage', type, key, location, numel, view_metadata)`; a view is `(view_key, offset, size)`. */
  load(pid: PyValue): StorageRef {
    const items = pid instanceof PyTuple ? pid.items : [];
    const [tag, type, key, , numel, view] = items;
    if (items.length !== 6 || tag !== "storage")
      throw invalidStorage(`the persistent id is ${describePy(pid)}, expected ("storage", type, key, location, numel, view)`);
    if (!(type instanceof TorchDtype)) throw invalidStorage(`its type is ${describePy(type)}, expected a torch storage class`);
    if (typeof key !== "string") throw invalidStorage(`its key is ${describePy(key)}, expected a str`);
    if (typeof numel !== "number" || !Number.isSafeInteger(numel) || numel < 0)
      throw invalidStorage(`storage "${key}" declares ${describePy(numel)} elements`);
    const known = this.roots.get(key);
    if (known !== undefined && (known.dtype !== type.dtype || known.numel !== numel))
      throw invalidStorage(`storage "${key}" is declared twice with different types or sizes`);
    this.roots.set(key, { dtype: type.dtype, numel, dataOffset: -1 });
    if (view === null) return new StorageRef(key, type.dtype, numel);
    const viewItems = view instanceof PyTuple ? view.items : [];
    const [, offset, size] = viewItems;
    const isView =
      viewItems.length === 3 &&
      typeof offset === "number" &&
      typeof size === "number" &&
      Number.isSafeInteger(offset) &&
      Number.isSafeInteger(size);
    if (!isView || offset < 0 || size < 0 || offset + size > numel)
      throw invalidStorage(`storage "${key}" has the view ${describePy(view ?? null)}, which does not fit its ${numel} elements`);
    return new StorageRef(key, type.dtype, size, offset);
  }

  byteLength(storage: StorageRef): number {
    return storage.numel * dtypeByteSize(storage.dtype);
  }

  read(storage: StorageRef, start: number, end: number): Promise<Uint8Array> {
    const root = this.roots.get(storage.key)!;
    const base = root.dataOffset + storage.elementOffset * dtypeByteSize(storage.dtype);
    return readExactly(this.#source, base + start, base + end, `bytes [${start}, ${end}) of storage "${storage.key}"`);
  }

  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    await this.#source.close?.();
  }

  /** Walks the storage records from `offset`: each key of the list, its element count, its bytes. */
  async locate(keys: PyValue, offset: number, fileByteLength: number): Promise<void> {
    if (!(keys instanceof PyList)) throw invalidStorage(`the storage key list is ${describePy(keys)}, expected a list`);
    let at = offset;
    for (const key of keys.items) {
      const root = typeof key === "string" ? this.roots.get(key) : undefined;
      if (root === undefined) throw invalidStorage(`the key list names ${describePy(key)}, which no tensor refers to`);
      const sizeBytes = await readExactly(this.#source, at, at + 8, `the size of storage "${String(key)}"`);
      const count = new DataView(sizeBytes.buffer, sizeBytes.byteOffset, 8).getBigInt64(0, true);
      if (count !== BigInt(root.numel))
        throw invalidStorage(`storage "${String(key)}" holds ${count} elements, its tensors declare ${root.numel}`);
      root.dataOffset = at + 8;
      at = root.dataOffset + root.numel * dtypeByteSize(root.dtype);
      if (at > fileByteLength) {
        throw new TorchCheckpointError(
          "truncated",
          `Cannot load legacy storage "${String(key)}": it ends at byte ${at}, after the end of the file (${fileByteLength})`,
        );
      }
    }
    const missing = [...this.roots].find(([, root]) => root.dataOffset < 0);
    if (missing !== undefined) throw invalidStorage(`storage "${missing[0]}" is not in the key list`);
  }
}

function checkMagic(magic: PyValue, where: string): void {
  if (magic !== LEGACY_MAGIC)
    throw new TorchCheckpointError(
      "not_a_checkpoint",
      `Cannot read ${where}: it starts with a pickle that is not PyTorch's legacy magic number`,
    );
}

function checkHeader(protocol: PyValue, sysInfo: PyValue, where: string): void {
  if (protocol !== LEGACY_PROTOCOL_VERSION) {
    throw new TorchCheckpointError(
      "unsupported_format",
      `Cannot read ${where}: legacy protocol version ${describePy(protocol)}, expected ${LEGACY_PROTOCOL_VERSION}`,
    );
  }
  if (sysInfo instanceof PyDict && sysInfo.get("little_endian") === false) {
    throw new TorchCheckpointError(
      "unsupported_format",
      `Cannot read ${where}: it was saved on a big-endian machine, only little-endian checkpoints are read`,
    );
  }
}

/** Runs the five pickles over a prefix of the file, reading a longer prefix when they do not fit. */
async function unpickleAll(
  source: ByteSource,
  fileByteLength: number,
  store: LegacyStorageStore,
): Promise<{ root: PyValue; keys: PyValue; end: number }> {
  let length = Math.min(fileByteLength, FIRST_READ_BYTE_LENGTH);
  for (;;) {
    const bytes = await readExactly(source, 0, length, "the legacy pickles");
    try {
      const magic = unpickle(bytes, () => null);
      checkMagic(magic.value, source.description);
      const protocol = unpickle(bytes, () => null, magic.end);
      const sysInfo = unpickle(bytes, () => null, protocol.end);
      checkHeader(protocol.value, sysInfo.value, source.description);
      const root = unpickle(bytes, (pid) => store.load(pid), sysInfo.end);
      const keys = unpickle(bytes, () => null, root.end);
      return { root: root.value, keys: keys.value, end: keys.end };
    } catch (error) {
      const isCut = error instanceof TorchCheckpointError && error.code === "truncated" && length < fileByteLength;
      if (!isCut) throw error;
      store.roots.clear();
      length = Math.min(fileByteLength, length * 4);
    }
  }
}

/** Opens a legacy checkpoint: its pickles, then the positions of its storages. */
export async function loadLegacyCheckpoint(source: ByteSource): Promise<LoadedPickle> {
  const fileByteLength = await sourceByteLength(source);
  const store = new LegacyStorageStore(source);
  const { root, keys, end } = await unpickleAll(source, fileByteLength, store);
  await store.locate(keys, end, fileByteLength);
  return { root, store, pickleByteLength: end, format: "legacy" };
}
