/**
 * A PyTorch checkpoint opened lazily: the pickle is read and checked when opening, tensors are
 * read from their storages only when asked. A {@link TorchCheckpoint} is a `SafetensorsReader`
 * (same names, `info`, `tensor`, `float32`, `readAll`, `close`), so it goes wherever one goes.
 *
 * @module
 */

import { type ByteSource, type SafeTensorMap, SafetensorsReader } from "@spo/safetensors";
import { readExactly, sourceByteLength } from "./byte_source.ts";
import { TorchCheckpointError } from "./errors.ts";
import { loadLegacyCheckpoint } from "./legacy_checkpoint.ts";
import type { TensorRef } from "./pickle/py_values.ts";
import type { StorageStore } from "./storage_store.ts";
import { tensorByteLength } from "./tensor_bytes.ts";
import { flattenCheckpoint, type PlainValue } from "./tree.ts";
import { headerOf, layOut, VirtualTensorSource } from "./virtual_source.ts";
import { loadZipCheckpoint, type LoadedPickle } from "./zip_checkpoint.ts";

/** Options for opening a checkpoint. */
export interface TorchOpenOptions {
  /**
   * A tensor may be larger than its storage only through repeated elements (stride 0, overlapping
   * strides); such a tensor is refused when its contiguous form passes this many bytes
   * (default 256 MiB), so a tiny file cannot ask for gigabytes.
   */
  maxExpandedByteLength?: number;
}

/** How a tensor lies in its storage, as the checkpoint says. */
export interface TorchTensorInfo {
  /** The storage record's key (`data/<key>` in a zip checkpoint). Tensors sharing it share memory in PyTorch. */
  readonly storageKey: string;
  /** In elements, from the start of the storage. */
  readonly storageOffset: number;
  readonly strides: readonly number[];
  readonly requiresGrad: boolean;
  /** Whether it was saved as an `nn.Parameter`. */
  readonly isParameter: boolean;
}

/** The file formats read: PyTorch ≥ 1.6's zip archive, and the older sequential format. */
export type TorchCheckpointFormat = "zip" | "legacy";

const DEFAULT_MAX_EXPANDED_BYTE_LENGTH = 256 * 1024 * 1024;
const STATE_DICT_PREFIX = "state_dict/";

/**
 * A checkpoint's tensors by key path (nested keys joined by `/`: `state_dict/model.x.weight`),
 * with its non-tensor leaves in {@link values}. Made by {@link openTorchCheckpoint} and the
 * bytes, file, URL and blob openers.
 *
 * @example
 * ```ts
 * import { openTorchCheckpointBytes } from "@spo/torch-checkpoint";
 * const checkpoint = await openTorchCheckpointBytes(bytes); // a .bin/.ckpt/.pt file's bytes
 * console.log(checkpoint.names, checkpoint.values.get("global_step"));
 * const weight = await checkpoint.float32(checkpoint.names[0]!);
 * ```
 */
export class TorchCheckpoint extends SafetensorsReader {
  /** Which of PyTorch's formats the file is in. */
  readonly format: TorchCheckpointFormat;
  /** Every non-tensor leaf (numbers, strings, booleans, None as null, bytes) by key path. */
  readonly values: ReadonlyMap<string, PlainValue>;
  readonly #tensors: ReadonlyMap<string, TensorRef>;
  readonly #loaded: LoadedPickle;
  readonly #description: string;

  /** @internal use {@link openTorchCheckpoint}. */
  constructor(description: string, loaded: LoadedPickle, tensors: [string, TensorRef][], values: ReadonlyMap<string, PlainValue>) {
    const laidOut = layOut(tensors);
    super(new VirtualTensorSource(description, laidOut, loaded.store), headerOf(laidOut));
    this.format = loaded.format;
    this.values = values;
    this.#tensors = new Map(tensors);
    this.#loaded = loaded;
    this.#description = description;
  }

  /** How a tensor lies in its storage (offset, strides, shared storage key, Parameter or not). */
  torchInfo(name: string): TorchTensorInfo {
    this.info(name);
    const tensor = this.#tensors.get(name)!;
    return {
      storageKey: tensor.storage.key,
      storageOffset: tensor.storageOffset,
      strides: [...tensor.strides],
      requiresGrad: tensor.requiresGrad,
      isParameter: tensor.isParameter,
    };
  }

  /**
   * Reads every tensor, one storage read each. (Safetensors' reader joins neighbours into large
   * reads; here tensors lie in separate records, so joining them would only add a copy.)
   */
  override async readAll(): Promise<SafeTensorMap> {
    const tensors: SafeTensorMap = new Map();
    for (const name of this.names) tensors.set(name, await this.tensor(name));
    return tensors;
  }

  /** Whether the checkpoint keeps its weights under `state_dict` (A1111 / Lightning `.ckpt`). */
  get hasStateDict(): boolean {
    return this.names.some((name) => name.startsWith(STATE_DICT_PREFIX));
  }

  /**
   * The weights as a reader: the tensors under `state_dict` with that prefix removed
   * (`model.diffusion_model.…`), or this checkpoint itself when there is no `state_dict`. The
   * result shares this checkpoint's file: close one of them, not both.
   */
  stateDict(): TorchCheckpoint {
    if (!this.hasStateDict) return this;
    const tensors = [...this.#tensors]
      .filter(([name]) => name.startsWith(STATE_DICT_PREFIX))
      .map(([name, tensor]): [string, TensorRef] => [name.slice(STATE_DICT_PREFIX.length), tensor]);
    const values = new Map(
      [...this.values]
        .filter(([name]) => name.startsWith(STATE_DICT_PREFIX))
        .map(([name, value]) => [name.slice(STATE_DICT_PREFIX.length), value]),
    );
    return new TorchCheckpoint(this.#description, this.#loaded, tensors, values);
  }
}

type Sniffed = "zip" | "legacy" | "tar" | "unknown";

function sniff(prefix: Uint8Array): Sniffed {
  const isZip = prefix[0] === 0x50 && prefix[1] === 0x4b && (prefix[2] === 3 || prefix[2] === 5) && (prefix[3] === 4 || prefix[3] === 6);
  if (isZip) return "zip";
  if (prefix[0] === 0x80 && prefix.length > 1 && prefix[1]! >= 2 && prefix[1]! <= 5) return "legacy";
  const ustar = String.fromCharCode(...prefix.subarray(257, 262));
  if (ustar === "ustar") return "tar";
  return "unknown";
}

async function loadPickle(source: ByteSource): Promise<LoadedPickle> {
  const byteLength = await sourceByteLength(source);
  const prefix = await readExactly(source, 0, Math.min(byteLength, 512), "the first bytes");
  const kind = sniff(prefix);
  if (kind === "zip") return loadZipCheckpoint(source);
  if (kind === "legacy") return loadLegacyCheckpoint(source);
  if (kind === "tar") {
    throw new TorchCheckpointError(
      "unsupported_format",
      `Cannot read ${source.description}: it is in the tar format of PyTorch before 0.4, which is not read; load it with torch.load in PyTorch 1.x and save it again with torch.save (or as safetensors)`,
    );
  }
  const isSafetensors = prefix.length > 8 && prefix[8] === 0x7b && prefix[6] === 0 && prefix[7] === 0;
  const hint = isSafetensors ? "; it looks like safetensors: read it with @spo/safetensors, or open any weights with openWeights" : "";
  throw new TorchCheckpointError(
    "not_a_checkpoint",
    `Cannot read ${source.description}: it is neither a zip archive (PyTorch ≥ 1.6) nor a pickle (the legacy format)${hint}`,
  );
}

function checkExpansions(tensors: [string, TensorRef][], store: StorageStore, limit: number): void {
  for (const [name, tensor] of tensors) {
    const byteLength = tensorByteLength(tensor);
    if (byteLength > limit && byteLength > store.byteLength(tensor.storage)) {
      throw new TorchCheckpointError(
        "limit_exceeded",
        `Cannot load tensor "${name}": it repeats the elements of a smaller storage to ${byteLength} bytes, more than maxExpandedByteLength (${limit})`,
        { tensorName: name },
      );
    }
  }
}

/** The same error with where it was read from at the end of its message (pickle errors do not know). */
function withSource(error: TorchCheckpointError, description: string): TorchCheckpointError {
  if (error.message.includes(description)) return error;
  return new TorchCheckpointError(error.code, `${error.message} (reading ${description})`, {
    globalName: error.globalName,
    tensorName: error.tensorName,
    cause: error,
  });
}

/**
 * Opens a PyTorch checkpoint from any `ByteSource`: reads the zip directory (or the legacy
 * pickles), runs the pickle on the allow-listed machine, checks every tensor against its storage,
 * and returns a lazy reader. On any error the source is closed and a {@link TorchCheckpointError} thrown.
 *
 * @example
 * ```ts
 * import { bytesSource, openTorchCheckpoint } from "@spo/torch-checkpoint";
 * const checkpoint = await openTorchCheckpoint(bytesSource(bytes));
 * ```
 */
export async function openTorchCheckpoint(source: ByteSource, options: TorchOpenOptions = {}): Promise<TorchCheckpoint> {
  let loaded: LoadedPickle | undefined;
  try {
    loaded = await loadPickle(source);
    const flat = flattenCheckpoint(loaded.root, 4 * loaded.pickleByteLength + 4096);
    checkExpansions(flat.tensors, loaded.store, options.maxExpandedByteLength ?? DEFAULT_MAX_EXPANDED_BYTE_LENGTH);
    return new TorchCheckpoint(source.description, loaded, flat.tensors, flat.values);
  } catch (error) {
    await source.close?.();
    if (error instanceof TorchCheckpointError) throw withSource(error, source.description);
    throw error;
  }
}
