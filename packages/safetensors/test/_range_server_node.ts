// A local HTTP server for tests: serves one file with Range support (or deliberately without),
// and counts the requests and body bytes it sends.

import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

/** How the server behaves. */
export interface RangeServerOptions {
  /** `range` (default): 206 replies; `ignore-range`: always 200 with the whole file; `unknown-size`: 206 with `/*`. */
  mode?: "range" | "ignore-range" | "unknown-size";
  /** Answer every request with this status instead (404, 500, ...). */
  status?: number;
  /** Answer with 500 from this request on (0-based), to fail midway. */
  failFromRequest?: number;
  /** Never answer (`answer`), or send the headers and half the body and then nothing (`body`), from this request on (0-based). */
  stall?: { what: "answer" | "body"; fromRequest: number };
}

/** A running server. */
export interface RangeServer {
  url: string;
  requests: { range: string | undefined; headers: IncomingHttpHeaders }[];
  /** Body bytes sent so far. */
  bytesSent: number;
  close(): Promise<void>;
}

const RANGE = /^bytes=(\d+)-(\d*)$/;

/** Starts a server on 127.0.0.1 (random port) serving `bytes`. */
export async function startRangeServer(bytes: Uint8Array, options: RangeServerOptions = {}): Promise<RangeServer> {
  const mode = options.mode ?? "range";
  const state: RangeServer = { url: "", requests: [], bytesSent: 0, close: async () => {} };
  const server = createServer((request, response) => {
    const index = state.requests.length;
    const range = request.headers.range;
    state.requests.push({ range, headers: request.headers });
    const failing = options.status ?? (options.failFromRequest !== undefined && index >= options.failFromRequest ? 500 : undefined);
    if (failing !== undefined) {
      response.writeHead(failing, { "Content-Type": "text/plain" });
      response.end("no");
      return;
    }
    const stall = options.stall !== undefined && index >= options.stall.fromRequest ? options.stall.what : undefined;
    if (stall === "answer") return;
    const match = range === undefined ? null : RANGE.exec(range);
    if (mode === "ignore-range" || match === null) {
      response.writeHead(200, { "Content-Length": bytes.length });
      state.bytesSent += bytes.length;
      response.end(bytes);
      return;
    }
    const start = Number(match[1]);
    const end = Math.min(match[2] === "" ? bytes.length - 1 : Number(match[2]), bytes.length - 1);
    if (start >= bytes.length) {
      response.writeHead(416, { "Content-Range": `bytes */${bytes.length}` });
      response.end();
      return;
    }
    const body = bytes.subarray(start, end + 1);
    const total = mode === "unknown-size" ? "*" : String(bytes.length);
    response.writeHead(206, { "Content-Range": `bytes ${start}-${end}/${total}`, "Content-Length": body.length });
    if (stall === "body") {
      response.write(body.subarray(0, body.length >> 1));
      return;
    }
    state.bytesSent += body.length;
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  state.url = `http://127.0.0.1:${port}/model.safetensors`;
  state.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return state;
}
