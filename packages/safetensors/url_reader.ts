/**
 * Reading safetensors files over HTTP with range requests, in browsers and Node.
 *
 * @module
 */

import { SafetensorsError } from "./errors.ts";
import { IdleTimer } from "./_idle_timer.ts";
import { openSafetensors, type ByteSource, type OpenOptions, type SafetensorsReader } from "./reader.ts";

/** Options for {@link openSafetensorsUrl}. */
export interface UrlOptions extends OpenOptions {
  /** The fetch to use; defaults to the global `fetch`. */
  fetch?: typeof fetch;
  /** Extra request headers, such as `Authorization`. */
  headers?: Record<string, string>;
  /** Aborts every request of this reader. */
  signal?: AbortSignal;
  /**
   * What to do when the server ignores `Range` and sends the whole file (status 200): keep it in
   * memory and serve every read from it (true, the default), or fail (false).
   */
  allowFullDownload?: boolean;
  /**
   * Give up on a request (SafetensorsError with code `timeout`) after this many milliseconds
   * without progress: no answer, or no new bytes of the body. Default {@link DEFAULT_URL_TIMEOUT_MS};
   * `Infinity` waits forever.
   */
  timeoutMs?: number;
}

/** How long a request may go without progress by default: 30 s. */
export const DEFAULT_URL_TIMEOUT_MS = 30_000;

/** The first request asks for this many bytes (256 KiB), enough for most headers. */
export const DEFAULT_URL_PREFETCH_BYTE_LENGTH = 256 * 1024;

const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+|\*)$/;
const UNSATISFIED_RANGE = /^bytes \*\/(\d+)$/;

/** A {@link ByteSource} reading byte ranges of a URL. */
class HttpRangeSource implements ByteSource {
  readonly description: string;
  byteLength: number | undefined;
  readonly #url: string;
  readonly #fetch: typeof fetch;
  readonly #headers: Record<string, string>;
  readonly #signal: AbortSignal | undefined;
  readonly #allowFullDownload: boolean;
  readonly #timeoutMs: number;
  /** The whole file, once a server has answered a range request with all of it. */
  #wholeFile: Uint8Array | undefined;

  constructor(url: string, options: UrlOptions) {
    this.#url = url;
    this.description = url;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#headers = options.headers ?? {};
    this.#signal = options.signal;
    this.#allowFullDownload = options.allowFullDownload ?? true;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_URL_TIMEOUT_MS;
    if (!(this.#timeoutMs > 0))
      throw new RangeError(`Cannot open ${url} with timeoutMs ${this.#timeoutMs}: it must be a positive number of milliseconds`);
  }

  async read(start: number, end: number): Promise<Uint8Array> {
    if (this.#wholeFile !== undefined) return this.#wholeFile.subarray(start, end);
    const action = `Cannot fetch bytes [${start}, ${end}) of ${this.#url}`;
    const timer = new IdleTimer(this.#timeoutMs, this.#signal);
    try {
      const response = await this.#request(start, end, action, timer);
      if (response.status === 206) return await this.#readPartial(response, start, end, action, timer);
      if (response.status === 200) return await this.#readWhole(response, start, end, action, timer);
      if (response.status === 416) return await this.#readNothing(response, start, action);
      await response.body?.cancel();
      throw new SafetensorsError(
        "http",
        `${action}: server answered ${response.status} ${response.statusText}, expected 206 Partial Content`,
      );
    } finally {
      timer.clear();
    }
  }

  async #request(start: number, end: number, action: string, timer: IdleTimer): Promise<Response> {
    const headers = { ...this.#headers, Range: `bytes=${start}-${end - 1}` };
    try {
      // called as a plain function: a browser's fetch throws "Illegal invocation" as a method of another object
      const doFetch = this.#fetch;
      const response = await doFetch(this.#url, { headers, signal: timer.signal });
      timer.touch();
      return response;
    } catch (cause) {
      if (timer.isExpired) throw new SafetensorsError("timeout", `${action}: no answer for ${this.#timeoutMs} ms (timeoutMs)`, { cause });
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new SafetensorsError("http", `${action}: request failed (${reason})`, { cause });
    }
  }

  /** The whole body, chunk by chunk so that each chunk counts as progress for the idle timer. */
  async #body(response: Response, action: string, timer: IdleTimer): Promise<Uint8Array> {
    try {
      if (response.body === null) return new Uint8Array(0);
      const chunks: Uint8Array[] = [];
      let length = 0;
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        timer.touch();
        chunks.push(value);
        length += value.length;
      }
      if (chunks.length === 1) return chunks[0]!;
      const body = new Uint8Array(length);
      let offset = 0;
      for (const chunk of chunks) {
        body.set(chunk, offset);
        offset += chunk.length;
      }
      return body;
    } catch (cause) {
      if (timer.isExpired) throw new SafetensorsError("timeout", `${action}: no data for ${this.#timeoutMs} ms (timeoutMs)`, { cause });
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new SafetensorsError("http", `${action}: reading the response failed (${reason})`, { cause });
    }
  }

  async #readPartial(response: Response, start: number, end: number, action: string, timer: IdleTimer): Promise<Uint8Array> {
    const contentRange = response.headers.get("content-range") ?? "";
    const match = CONTENT_RANGE.exec(contentRange);
    if (match === null || Number(match[1]) !== start) {
      await response.body?.cancel();
      throw new SafetensorsError(
        "http",
        `${action}: server answered with Content-Range ${JSON.stringify(contentRange)}, expected "bytes ${start}-${end - 1}/<size>"`,
      );
    }
    if (match[3] !== "*") this.byteLength = Number(match[3]);
    const expected = Math.min(end, this.byteLength ?? end) - start;
    const body = await this.#body(response, action, timer);
    const isShortOfKnownSize = this.byteLength !== undefined && body.length !== expected;
    if (isShortOfKnownSize || body.length > end - start) {
      throw new SafetensorsError("http", `${action}: server sent ${body.length} bytes, expected ${expected}`);
    }
    return body;
  }

  async #readWhole(response: Response, start: number, end: number, action: string, timer: IdleTimer): Promise<Uint8Array> {
    if (!this.#allowFullDownload) {
      await response.body?.cancel();
      throw new SafetensorsError(
        "http",
        `${action}: server ignored the Range header and sent the whole file (200), expected 206 Partial Content`,
      );
    }
    const body = await this.#body(response, action, timer);
    this.#wholeFile = body;
    this.byteLength = body.length;
    return body.subarray(start, end);
  }

  async #readNothing(response: Response, start: number, action: string): Promise<Uint8Array> {
    // 416: the range starts at or past the end of the file; "bytes */<size>" tells the size.
    await response.body?.cancel();
    const match = UNSATISFIED_RANGE.exec(response.headers.get("content-range") ?? "");
    if (match === null) {
      throw new SafetensorsError("http", `${action}: server answered 416 Range Not Satisfiable without the file size`);
    }
    this.byteLength = Number(match[1]);
    if (start < this.byteLength) {
      throw new SafetensorsError("http", `${action}: server answered 416 Range Not Satisfiable for a file of ${this.byteLength} bytes`);
    }
    return new Uint8Array(0);
  }
}

/**
 * A {@link ByteSource} reading byte ranges of a URL with HTTP range requests (the transport of
 * {@link openSafetensorsUrl}), for other formats read over the same sources.
 *
 * @example
 * ```ts
 * import { urlByteSource } from "@spo/safetensors";
 * const source = urlByteSource("https://example.com/model.bin");
 * const magic = await source.read(0, 4); // one `Range: bytes=0-3` request
 * ```
 */
export function urlByteSource(url: string | URL, options: Omit<UrlOptions, "prefetchByteLength"> = {}): ByteSource {
  return new HttpRangeSource(String(url), options);
}

/**
 * Opens a safetensors file at a URL, reading with HTTP range requests: the first request asks for
 * `prefetchByteLength` bytes (header length and usually the whole header), a second one fetches
 * the rest of a larger header, and each `tensor(name)` asks for exactly that tensor's bytes
 * (`Range: bytes=a-b`). Servers that ignore ranges (answering 200) are read once in full, unless
 * `allowFullDownload` is false. HTTP errors throw {@link SafetensorsError} with code `http`; a
 * request that makes no progress for `timeoutMs` (default 30 s) throws one with code `timeout`.
 *
 * @example
 * ```ts
 * import { openSafetensorsUrl } from "@spo/safetensors";
 * const reader = await openSafetensorsUrl("https://example.com/model.safetensors");
 * console.log(reader.names.slice(0, 3));
 * const weight = await reader.tensor(reader.names[0]); // one range request
 * await reader.close();
 * ```
 */
export async function openSafetensorsUrl(url: string | URL, options: UrlOptions = {}): Promise<SafetensorsReader> {
  const source = new HttpRangeSource(String(url), options);
  const prefetchByteLength = options.prefetchByteLength ?? DEFAULT_URL_PREFETCH_BYTE_LENGTH;
  return openSafetensors(source, { prefetchByteLength });
}
