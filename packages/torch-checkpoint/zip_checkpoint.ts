/**
 * PyTorch's zip format (torch.save since 1.6): `<name>/data.pkl` (the pickle), one record
 * `<name>/data/<key>` per storage, `<name>/version`, and since 2.x `<name>/byteorder`.
 *
 * @module
 */

import { dtypeByteSize, type ByteSource } from "@spo/safetensors";
import { TorchCheckpointError } from "./errors.ts";
import { unpickle } from "./pickle/pickle_machine.ts";
import { describePy, PyTuple, type PyValue, StorageRef, TorchDtype } from "./pickle/py_values.ts";
import type { StorageStore } from "./storage_store.ts";
import { ZipArchive } from "./zip/zip_archive.ts";
import type { ZipEntry } from "./zip/zip_directory.ts";

/** What the loaders of both formats return: the unpickled root and the storages it refers to. */
export interface LoadedPickle {
  root: PyValue;
  store: StorageStore;
  pickleByteLength: number;
  format: "zip" | "legacy";
}

function invalidStorage(problem: string): TorchCheckpointError {
  return new TorchCheckpointError("invalid_storage", `Cannot load a storage: ${problem}`);
}

/** The `<name>/` every record starts with, from the one `<name>/data.pkl`. */
function recordPrefix(archive: ZipArchive): string {
  const pickles = archive.names.filter((name) => /^[^/]+\/data\.pkl$/.test(name) || name === "data.pkl");
  if (pickles.length === 1) return pickles[0]!.slice(0, -"data.pkl".length);
  const where = archive.source.description;
  if (pickles.length > 1)
    throw new TorchCheckpointError("corrupt_zip", `Cannot read ${where}: it has ${pickles.length} data.pkl records, expected one`);
  const isTorchScript = archive.names.some((name) => /(^|\/)constants\.pkl$/.test(name) || /(^|\/)code\//.test(name));
  if (isTorchScript) {
    throw new TorchCheckpointError(
      "unsupported_format",
      `Cannot read ${where}: it is a TorchScript archive (torch.jit.save), which holds code; save the model's state_dict() with torch.save instead`,
    );
  }
  throw new TorchCheckpointError(
    "missing_record",
    `Cannot read ${where}: the zip archive has no <name>/data.pkl record, so it is not a PyTorch checkpoint`,
  );
}

async function checkByteOrder(archive: ZipArchive, prefix: string): Promise<void> {
  const entry = archive.find(`${prefix}byteorder`);
  if (entry === undefined) return;
  if (entry.byteLength > 16)
    throw new TorchCheckpointError(
      "corrupt_zip",
      `Cannot read ${archive.source.description}: its byteorder record has ${entry.byteLength} bytes`,
    );
  const order = new TextDecoder().decode(await archive.readWhole(entry)).trim();
  if (order !== "little") {
    throw new TorchCheckpointError(
      "unsupported_format",
      `Cannot read ${archive.source.description}: its storages are ${JSON.stringify(order)}-endian, only little-endian checkpoints are read`,
    );
  }
}

/** Storages as zip records, each checked against the pickle's declaration when first referred to. */
class ZipStorageStore implements StorageStore {
  #isClosed = false;
  readonly #archive: ZipArchive;
  readonly #prefix: string;
  readonly #entries = new Map<string, ZipEntry>();

  constructor(archive: ZipArchive, prefix: string) {
    this.#archive = archive;
    this.#prefix = prefix;
  }

  /** `('storage', storage_type, key, location, numel)` → a checked {@link StorageRef}. */
  load(pid: PyValue): StorageRef {
    const items = pid instanceof PyTuple ? pid.items : [];
    const [tag, type, key, , numelArg] = items;
    if (items.length !== 5 || tag !== "storage")
      throw invalidStorage(`the persistent id is ${describePy(pid)}, expected ("storage", type, key, location, numel)`);
    if (!(type instanceof TorchDtype))
      throw invalidStorage(`its type is ${describePy(type)}, expected a torch storage class such as torch.FloatStorage`);
    if (typeof key !== "string") throw invalidStorage(`its key is ${describePy(key)}, expected a str`);
    if (typeof numelArg !== "number" || !Number.isSafeInteger(numelArg) || numelArg < 0)
      throw invalidStorage(`storage "${key}" declares ${describePy(numelArg)} elements`);
    const entry = this.#archive.find(`${this.#prefix}data/${key}`);
    if (entry === undefined) {
      throw new TorchCheckpointError(
        "missing_record",
        `Cannot load storage "${key}": ${this.#archive.source.description} has no record ${this.#prefix}data/${key}`,
      );
    }
    const declared = numelArg * dtypeByteSize(type.dtype);
    if (entry.byteLength < declared) {
      throw invalidStorage(
        `storage "${key}" declares ${numelArg} elements of ${type.dtype} (${declared} bytes) but its record holds ${entry.byteLength} bytes`,
      );
    }
    this.#entries.set(key, entry);
    return new StorageRef(key, type.dtype, numelArg);
  }

  byteLength(storage: StorageRef): number {
    return this.#entries.get(storage.key)!.byteLength;
  }

  read(storage: StorageRef, start: number, end: number): Promise<Uint8Array> {
    return this.#archive.readRange(this.#entries.get(storage.key)!, start, end);
  }

  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    await this.#archive.source.close?.();
  }
}

/** Opens a zip checkpoint: directory, byte order, then the pickle, storages checked as they appear. */
export async function loadZipCheckpoint(source: ByteSource): Promise<LoadedPickle> {
  const archive = await ZipArchive.open(source);
  const prefix = recordPrefix(archive);
  await checkByteOrder(archive, prefix);
  const pickle = await archive.readWhole(archive.entry(`${prefix}data.pkl`));
  const store = new ZipStorageStore(archive, prefix);
  const { value } = unpickle(pickle, (pid) => store.load(pid));
  return { root: value, store, pickleByteLength: pickle.length, format: "zip" };
}
