/**
 * Model folders for the pages: by URL (relative to the page or absolute; weights read with HTTP
 * range requests) or from local files picked with a directory picker (`<input webkitdirectory>`;
 * weights read from the `File` blobs). Either way each weight file is streamed tensor by tensor
 * and every byte read is reported, so the page can show load progress.
 *
 * @module
 */
import { type ModelSource, urlModelSource } from "@spo/pipeline";
import { type ByteSource, DEFAULT_URL_PREFETCH_BYTE_LENGTH, blobByteSource, openSafetensors, urlByteSource } from "@spo/safetensors";

/** Bytes read so far from one weight file of a model folder. */
export interface LoadProgress {
  /** The weight file, relative to the folder (`unet/diffusion_pytorch_model.safetensors`). */
  file: string;
  bytesRead: number;
  /** The file's size, once known. */
  byteLength: number | undefined;
}

/** Called after every read of weight bytes. */
export type LoadProgressListener = (progress: LoadProgress) => void;

function countingSource(inner: ByteSource, file: string, listener: LoadProgressListener): ByteSource {
  let bytesRead = 0;
  return {
    description: inner.description,
    get byteLength() {
      return inner.byteLength;
    },
    async read(start, end) {
      const bytes = await inner.read(start, end);
      bytesRead += bytes.length;
      listener({ file, bytesRead, byteLength: inner.byteLength });
      return bytes;
    },
    close: () => inner.close?.() ?? Promise.resolve(),
  };
}

/**
 * A model folder at `base` (a trailing `/` is added), with weight reads reported to `listener`.
 *
 * @example
 * ```ts
 * const source = urlFolderSource("models/toy/", (p) => console.log(p.file, p.bytesRead));
 * const pipe = await loadStableDiffusionPipeline(source);
 * ```
 */
export function urlFolderSource(base: string, listener: LoadProgressListener = () => {}): ModelSource {
  const plain = urlModelSource(base);
  return {
    location: plain.location,
    exists: (path) => plain.exists(path),
    readText: (path) => plain.readText(path),
    openSafetensors: (path) =>
      openSafetensors(countingSource(urlByteSource(new URL(path, plain.location)), path, listener), {
        prefetchByteLength: DEFAULT_URL_PREFETCH_BYTE_LENGTH,
      }),
  };
}

/** Thrown when picked files do not make a model folder. */
export class LocalFolderError extends Error {
  override name = "LocalFolderError";
}

/**
 * A model folder from files picked with `<input type="file" webkitdirectory>`: each file's
 * `webkitRelativePath` is `<picked folder>/<path in it>`; the picked folder's name is dropped, so
 * `sd15/unet/config.json` is `unet/config.json`.
 *
 * @example
 * ```ts
 * const source = localFolderSource([...input.files!]);
 * ```
 */
export function localFolderSource(files: readonly File[], listener: LoadProgressListener = () => {}): ModelSource {
  if (files.length === 0) throw new LocalFolderError("Cannot load a model from local files: no files were picked");
  const byPath = new Map<string, File>();
  let folder = "";
  for (const file of files) {
    const relative = file.webkitRelativePath || file.name;
    const cut = relative.indexOf("/");
    if (cut >= 0) folder = relative.slice(0, cut);
    byPath.set(cut >= 0 ? relative.slice(cut + 1) : relative, file);
  }
  const fileAt = (path: string): File => {
    const file = byPath.get(path);
    if (!file) throw new LocalFolderError(`Cannot read ${path} from the picked folder "${folder}": it has no such file`);
    return file;
  };
  return {
    location: `local folder "${folder}"`,
    exists: async (path) => byPath.has(path),
    readText: (path) => fileAt(path).text(),
    openSafetensors: async (path) => openSafetensors(countingSource(blobByteSource(fileAt(path)), path, listener)),
  };
}

/** The last path segment of a model location, for the infotext's `Model:`. */
export function modelName(location: string): string {
  const parts = location
    .replace(/^local folder "|"$/g, "")
    .split("/")
    .filter((part) => part !== "");
  return parts.at(-1) ?? location;
}
