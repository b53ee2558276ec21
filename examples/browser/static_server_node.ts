/**
 * The examples' file server: GET and HEAD of the files under one folder, with the content types a
 * browser needs (module scripts must be served as JavaScript) and single `Range: bytes=a-b`
 * requests answered 206 (the model loader reads weights tensor by tensor with them).
 *
 * @module
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join, normalize, sep } from "node:path";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".txt": "text/plain; charset=utf-8",
  ".png": "image/png",
  ".svg": "image/svg+xml",
};

const RANGE = /^bytes=(\d*)-(\d*)$/;

/**
 * Answers `request` with `relativePath` (URL-decoded, no leading slash) under `root`; 404 outside
 * it or for a missing file, 416 for a range past the end.
 */
export async function serveFile(request: IncomingMessage, response: ServerResponse, root: string, relativePath: string): Promise<void> {
  const headers: Record<string, string> = { "cache-control": "no-store", "accept-ranges": "bytes" };
  const path = normalize(join(root, relativePath));
  const info = path.startsWith(normalize(root + sep)) ? await stat(path).catch(() => null) : null;
  if (info === null || !info.isFile()) {
    response.writeHead(404, headers).end();
    return;
  }
  const size = info.size;
  let start = 0;
  let end = size;
  let status = 200;
  const range = request.headers.range === undefined ? null : RANGE.exec(request.headers.range);
  if (range) {
    const [first, last] = [range[1]!, range[2]!];
    start = first === "" ? Math.max(0, size - Number(last)) : Number(first);
    end = first === "" || last === "" ? size : Math.min(size, Number(last) + 1);
    if (start >= size || start >= end) {
      response.writeHead(416, { ...headers, "content-range": `bytes */${size}` }).end();
      return;
    }
    status = 206;
    headers["content-range"] = `bytes ${start}-${end - 1}/${size}`;
  }
  headers["content-length"] = String(end - start);
  headers["content-type"] = CONTENT_TYPES[extname(path)] ?? "application/octet-stream";
  response.writeHead(status, headers);
  if (request.method === "HEAD" || end === start) {
    response.end();
    return;
  }
  await new Promise<void>((done, fail) => {
    createReadStream(path, { start, end: end - 1 })
      .on("error", fail)
      .on("end", () => done())
      .pipe(response);
  });
}
