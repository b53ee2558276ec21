/**
 * Reading safetensors files over HTTP with range requests, in browsers and Node.
 *
 * @module
 */

import { SafetensorsError } from "./errors.ts";
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
}

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
  /** The whole file, once a server has answered a range request with all of it. */
  #wholeFile: Uint8Array | undefined;

  constructor(url: string, options: UrlOptions) {
    this.#url = url;
    this.description = url;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#headers = options.headers ?? {};
    this.#signal = options.signal;
    this.#allowFullDownload = options.allowFullDownload ?? true;
  }

  async read(start: number, end: number): Promise<Uint8Array> {
    if (this.#wholeFile !== undefined) return this.#wholeFile.subarray(start, end);
    const action = `Cannot fetch bytes [${start}, ${end}) of ${this.#url}`;
    const response = await this.#request(start, end, action);
    if (response.status === 206) return this.#readPartial(response, start, end, action);
    if (response.status === 200) return this.#readWhole(response, start, end, action);
    if (response.status === 416) return this.#readNothing(response, start, action);
    await response.body?.cancel();
    throw new SafetensorsError("http", `${action}: server answered ${response.status} ${response.statusText}, expected 206 Partial Content`);
  }

  async #request(start: number, end: number, action: string): Promise<Response> {
    const headers = { ...this.#headers, Range: `bytes=${start}-${end - 1}` };
    try {
      // called as a plain function: a browser's fetch throws "Illegal invocation" as a method of another object
      const doFetch = this.#fetch;
      return await doFetch(this.#url, { headers, signal: this.#signal });
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new SafetensorsError("http", `${action}: request failed (${reason})`, { cause });
    }
  }

  async #body(response: Response, action: string): Promise<Uint8Array> {
    try {
      return new Uint8Array(await response.arrayBuffer());
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new SafetensorsError("http", `${action}: reading the response failed (${reason})`, { cause });
    }
  }

  async #readPartial(response: Response, start: number, end: number, action: string): Promise<Uint8Array> {
    const contentRange = response.headers.get("content-range") ?? "";
    const match = CONTENT_RANGE.exec(contentRange);
    if (match === null || Number(match[1]) !== start) {
      await response.body?.cancel();
      throw new SafetensorsError("http", `${action}: server answered with Content-Range ${JSON.stringify(contentRange)}, expected "bytes ${start}-${end - 1}/<size>"`);
    }
    if (match[3] !== "*") this.byteLength = Number(match[3]);
    const expected = Math.min(end, this.byteLength ?? end) - start;
    const body = await this.#body(response, action);
    const isShortOfKnownSize = this.byteLength !== undefined && body.length !== expected;
    if (isShortOfKnownSize || body.length > end - start) {
      throw new SafetensorsError("http", `${action}: server sent ${body.length} bytes, expected ${expected}`);
    }
    return body;
  }

  async #readWhole(response: Response, start: number, end: number, action: string): Promise<Uint8Array> {
    if (!this.#allowFullDownload) {
      await response.body?.cancel();
      throw new SafetensorsError("http", `${action}: server ignored the Range header and sent the whole file (200), expected 206 Partial Content`);
    }
    const body = await this.#body(response, action);
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
 * `allowFullDownload` is false. HTTP errors throw {@link SafetensorsError} with code `http`.
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
