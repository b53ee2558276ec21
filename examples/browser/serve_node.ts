/**
 * `npm run examples:browser`: builds the browser examples and serves them on 127.0.0.1 (a secure
 * context, so WebGPU is available), printing the URL. `--port N` picks the port (default 5173;
 * 0 for any free one).
 *
 * @module
 */
import { createServer, type Server } from "node:http";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { serveFile } from "./static_server_node.ts";
import { buildExamples, type BuildOptions } from "./build_node.ts";

/** A running example server. */
export interface ExampleServer {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

/**
 * Builds the pages (see `buildExamples`) and serves the output folder, with range requests (the
 * model loader reads weights tensor by tensor with them).
 *
 * @example
 * ```ts
 * const site = await serveExamples({ port: 0 });
 * console.log(`${site.url}generate.html`);
 * await site.close();
 * ```
 */
export async function serveExamples(options: BuildOptions & { port?: number } = {}): Promise<ExampleServer> {
  const { outDir } = await buildExamples(options);
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    let path = decodeURIComponent(url.pathname).replace(/^\/+/, "");
    if (path === "" || path.endsWith("/")) path += "index.html";
    serveFile(request, response, outDir, path).catch(() => response.destroy());
  });
  await new Promise<void>((done, fail) => {
    server.once("error", fail);
    server.listen(options.port ?? 5173, "127.0.0.1", () => done());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("Cannot read the example server's address");
  return {
    url: `http://127.0.0.1:${address.port}/`,
    server,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((done) => server.close(() => done()));
    },
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf("--port");
  const port = at >= 0 ? Number(process.argv[at + 1]) : 5173;
  const site = await serveExamples({ port, minify: false });
  console.log(`Browser examples: ${site.url}  (Quick Generate: ${site.url}generate.html)`);
  console.log("Open it in a browser with WebGPU (Chrome or Edge 113+, Safari 26+, Firefox 141+ on Windows). Ctrl+C stops.");
}
