/**
 * Where a diffusers model folder's files come from: a base URL (browsers and Node, weights read
 * with HTTP range requests so nothing is downloaded twice) or, in Node, a folder on disk
 * (`folderModelSource` in `@spo/pipeline/node`). The loaders only ever ask for relative paths
 * such as `unet/config.json`.
 *
 * @module
 */

import { openSafetensorsUrl, type SafetensorsReader } from "@spo/safetensors";

/** Read access to the files of one model folder, addressed by relative paths (`unet/config.json`). */
export interface ModelSource {
  /** The folder or URL, for messages. */
  readonly location: string;
  /** Whether the file exists. */
  exists(path: string): Promise<boolean>;
  /** The file as UTF-8 text. */
  readText(path: string): Promise<string>;
  /** A lazy safetensors reader of the file (close it when done). */
  openSafetensors(path: string): Promise<SafetensorsReader>;
}

/** Options of {@link urlModelSource}. */
export interface UrlModelSourceOptions {
  /** The fetch to use; defaults to the global `fetch`. */
  fetch?: typeof fetch;
  /** Extra request headers, such as `Authorization: Bearer …` for gated models. */
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/**
 * A model folder served over HTTP(S): `base` is the folder's URL (a trailing `/` is added when
 * missing; in a page it may be relative to the page), e.g.
 * `https://huggingface.co/<repo>/resolve/main/`. Weight files are read with range requests,
 * tensor by tensor.
 *
 * @example
 * ```ts
 * const source = urlModelSource("https://example.com/models/tiny-sd/");
 * await source.exists("unet/config.json"); // true
 * ```
 */
export function urlModelSource(base: string | URL, options: UrlModelSourceOptions = {}): ModelSource {
  const text = base.toString();
  // a relative URL ("./models/sd15/") is relative to the page, where there is one
  const root = new URL(text.endsWith("/") ? text : `${text}/`, (globalThis as { location?: { href: string } }).location?.href);
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
  const init = { headers: options.headers, signal: options.signal };
  const urlOf = (path: string) => new URL(path, root).href;
  return {
    location: root.href,
    async exists(path) {
      const response = await doFetch(urlOf(path), { ...init, method: "HEAD" });
      // servers that refuse HEAD are asked for the first byte instead
      if (response.status !== 405 && response.status !== 501) return response.ok;
      const ranged = await doFetch(urlOf(path), { ...init, headers: { ...options.headers, range: "bytes=0-0" } });
      await ranged.body?.cancel();
      return ranged.ok;
    },
    async readText(path) {
      const response = await doFetch(urlOf(path), init);
      if (!response.ok) throw new Error(`Cannot read ${urlOf(path)}: server answered ${response.status} ${response.statusText}`);
      return await response.text();
    },
    openSafetensors: (path) => openSafetensorsUrl(urlOf(path), { fetch: doFetch, headers: options.headers, signal: options.signal }),
  };
}

/** `source` itself, or a URL source for a URL string / object. */
export function toModelSource(source: ModelSource | string | URL, options: UrlModelSourceOptions = {}): ModelSource {
  if (typeof source === "string" || source instanceof URL) return urlModelSource(source, options);
  return source;
}

/** True for `http:`, `https:` and `blob:` URL strings. */
export function isUrlString(text: string): boolean {
  return /^(https?|blob):/i.test(text);
}
