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
  /**
   * Milliseconds a request may wait for an answer (and, for weights, for more bytes) before it
   * fails with a {@link ModelSourceError} (SafetensorsError code `timeout` for weights). Default 30 000.
   */
  timeoutMs?: number;
}

/** A model folder's URL could not be reached (network failure, no answer in time). */
export class ModelSourceError extends Error {
  override name = "ModelSourceError";
}

/** How long a model URL may go without answering by default: 30 s. */
export const DEFAULT_MODEL_TIMEOUT_MS = 30_000;

/** fetch with a deadline and the caller's signal; failures name the URL and the reason. */
async function fetchOrExplain(doFetch: typeof fetch, url: string, init: RequestInit, timeoutMs: number): Promise<Response> {
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = init.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
  try {
    return await doFetch(url, { ...init, signal });
  } catch (cause) {
    const reason = deadline.aborted ? `no answer for ${timeoutMs} ms` : describeFetchFailure(cause);
    throw new ModelSourceError(`cannot reach ${url} (${reason})`, { cause });
  }
}

/** Node's fetch says only "fetch failed"; the system error (ECONNREFUSED, ENOTFOUND) is its cause. */
function describeFetchFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error ? (error.cause as { message?: string } | undefined) : undefined;
  return cause?.message ? `${message}: ${cause.message}` : message;
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
  const timeoutMs = options.timeoutMs ?? DEFAULT_MODEL_TIMEOUT_MS;
  const init = { headers: options.headers, signal: options.signal };
  const urlOf = (path: string) => new URL(path, root).href;
  const request = (path: string, extra: RequestInit = {}) => fetchOrExplain(doFetch, urlOf(path), { ...init, ...extra }, timeoutMs);
  return {
    location: root.href,
    async exists(path) {
      const response = await request(path, { method: "HEAD" });
      // servers that refuse HEAD are asked for the first byte instead
      if (response.status !== 405 && response.status !== 501) return response.ok;
      const ranged = await request(path, { headers: { ...options.headers, range: "bytes=0-0" } });
      await ranged.body?.cancel();
      return ranged.ok;
    },
    async readText(path) {
      const response = await request(path);
      if (!response.ok) throw new Error(`Cannot read ${urlOf(path)}: server answered ${response.status} ${response.statusText}`);
      return await response.text();
    },
    openSafetensors: (path) =>
      openSafetensorsUrl(urlOf(path), { fetch: doFetch, headers: options.headers, signal: options.signal, timeoutMs }),
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
