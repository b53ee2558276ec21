/**
 * Serving a folder over HTTP for tests that load models by URL (in Node and in the browser
 * harness): GET and HEAD, single `Range: bytes=a-b` requests answered 206 (what
 * `openSafetensorsUrl` uses), 404 outside the folder. Node-only; import it by relative path.
 *
 * @module
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { join, normalize, sep } from "node:path";

const RANGE = /^bytes=(\d*)-(\d*)$/;

/**
 * Answers `request` with the file at `relativePath` under `root` (already URL-decoded, no leading
 * slash). Returns after the response is sent.
 */
export async function serveStaticFile(
  request: IncomingMessage,
  response: ServerResponse,
  root: string,
  relativePath: string,
): Promise<void> {
  const headers = { "cache-control": "no-store", "accept-ranges": "bytes", "access-control-allow-origin": "*" };
  const path = normalize(join(root, relativePath));
  const size = path.startsWith(normalize(root + sep)) ? await fileSize(path) : undefined;
  if (size === undefined) {
    response.writeHead(404, headers).end();
    return;
  }
  let start = 0;
  let end = size; // exclusive
  const range = request.headers.range;
  const match = range === undefined ? null : RANGE.exec(range);
  if (range !== undefined) {
    if (match === null || (match[1] === "" && match[2] === "")) {
      response.writeHead(416, { ...headers, "content-range": `bytes */${size}` }).end();
      return;
    }
    if (match[1] === "") start = Math.max(0, size - Number(match[2]));
    else {
      start = Number(match[1]);
      end = match[2] === "" ? size : Math.min(size, Number(match[2]) + 1);
    }
    if (start >= size || start >= end) {
      response.writeHead(416, { ...headers, "content-range": `bytes */${size}` }).end();
      return;
    }
  }
  const status = range === undefined ? 200 : 206;
  const rangeHeader = status === 206 ? { "content-range": `bytes ${start}-${end - 1}/${size}` } : {};
  response.writeHead(status, { ...headers, ...rangeHeader, "content-length": String(end - start), "content-type": contentType(path) });
  if (request.method === "HEAD" || end === start) {
    response.end();
    return;
  }
  await new Promise<void>((resolve, reject) => {
    createReadStream(path, { start, end: end - 1 })
      .on("error", reject)
      .pipe(response)
      .on("finish", resolve)
      .on("error", reject);
  });
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    const info = await stat(path);
    return info.isFile() ? info.size : undefined;
  } catch {
    return undefined;
  }
}

function contentType(path: string): string {
  if (path.endsWith(".json")) return "application/json";
  if (path.endsWith(".txt")) return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

/** A running file server; `url` ends with `/`. */
export interface FileServer {
  readonly url: string;
  /** How many requests it has answered (tests use it to see that range requests happened). */
  readonly requests: readonly { method: string; path: string; range: string | undefined }[];
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Serves `root` on 127.0.0.1 at a free port until `close()`.
 *
 * @example
 * ```ts
 * await using server = await startFileServer(folder);
 * await fetch(`${server.url}unet/config.json`);
 * ```
 */
export async function startFileServer(root: string): Promise<FileServer> {
  const requests: { method: string; path: string; range: string | undefined }[] = [];
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? "/", "http://127.0.0.1").pathname).slice(1);
    requests.push({ method: request.method ?? "GET", path, range: request.headers.range });
    serveStaticFile(request, response, root, path).catch(() => response.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("Cannot read the file server's address");
  const close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { url: `http://127.0.0.1:${address.port}/`, requests, close, [Symbol.asyncDispose]: close };
}
