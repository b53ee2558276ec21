/**
 * Runs TypeScript in a real browser's WebGPU from Node tests: bundles an entry file with esbuild
 * for the browser, serves it from a `node:http` server on 127.0.0.1 (WebGPU needs a secure
 * context; `http://127.0.0.1` is one), drives Debian's Chromium through playwright-core with
 * SwiftShader's Vulkan as the WebGPU adapter, calls an exported function and returns its result.
 * Node-only; not exported from testing/mod.ts: tests import it by relative path.
 *
 * An entry file is an ES module whose exported functions run in the page: it makes its own device
 * with `Device.create()` (which takes `navigator.gpu` there) and must not import Node built-ins or
 * testing/mod.ts. Arguments go in as JSON; results come back as JSON, except typed arrays, which
 * travel as their bytes so that floats (NaN, -0 and all) arrive bit for bit. See
 * test/browser/computations.ts for an entry shared by Node and the page.
 *
 * A launch takes about 2 s here (Chromium 156, 2 cores); open one session per test file.
 *
 * @example
 * ```ts
 * const session = await openBrowser();
 * try {
 *   const sum = await session.call("packages/x/test/browser/entry.ts", "addOnGpu", 2, 3);
 * } finally {
 *   await session.close();
 * }
 * ```
 * @module
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { serveStaticFile } from "./static_files_node.ts";

/** Where Chromium is looked for when `executablePath` is not given. */
export const CHROMIUM_PATHS = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

/**
 * Flags for compute-only WebGPU on a machine without a GPU: new headless mode, WebGPU enabled on
 * SwiftShader's Vulkan, and nothing that reaches the network (peers.md §10, DESIGN.md §5).
 */
export const CHROMIUM_ARGS = [
  "--headless=new",
  "--no-sandbox",
  "--enable-unsafe-webgpu",
  "--enable-features=Vulkan",
  "--use-vulkan=swiftshader",
  "--use-webgpu-adapter=swiftshader",
  "--enable-unsafe-swiftshader",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface BrowserOptions {
  /** Chromium binary; default: the first of `CHROMIUM_PATHS` that exists. */
  executablePath?: string;
  /** Limit for launching, loading a page and each call. Default: 60 000 ms. */
  timeoutMs?: number;
  /** Extra command-line flags after `CHROMIUM_ARGS`. */
  extraArgs?: string[];
  /** A folder the page can fetch from under `/files/` (GET, HEAD and range requests), e.g. a model folder. */
  files?: string;
}

/** An open browser with one page, served from its own local server. Close it in `finally`. */
export interface BrowserSession {
  readonly page: Page;
  /** How long launching Chromium took. */
  readonly launchMs: number;
  /** The page's origin, e.g. `http://127.0.0.1:41234`; `options.files` is served under `${origin}/files/`. */
  readonly origin: string;
  /** The page's console output and uncaught errors, in order. */
  readonly console: readonly string[];
  /** Bundles `entryFile` (once per session), imports it in the page and calls `exportName(...args)`. */
  call<T = unknown>(entryFile: string, exportName: string, ...args: unknown[]): Promise<T>;
  /** Closes the browser and the server and removes the temporary profile. Safe to call twice. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Bundles a TypeScript entry file for the browser (ESM) the way a user's bundler would, with no
 * flag about Dawn: @spo/wgpu-tensor reaches `webgpu` only under the `node` condition. `node:*` stays
 * external and any static import of it is an error, so a package that would pull Node built-ins
 * into a page fails here instead of in the page.
 *
 * @example
 * ```ts
 * const code = await bundleForBrowser("packages/wgpu-tensor/test/browser/computations.ts");
 * ```
 */
export async function bundleForBrowser(entryFile: string): Promise<string> {
  const result = await build({
    entryPoints: [resolve(entryFile)],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    metafile: true,
    logLevel: "silent",
    external: ["node:*"],
    // workspace packages resolve to their TypeScript sources, as under `node --conditions=@spo/source`
    conditions: ["@spo/source"],
  });
  const staticNodeImports = Object.values(result.metafile.outputs)
    .flatMap((output) => output.imports)
    .filter((entry) => entry.external && entry.kind !== "dynamic-import")
    .map((entry) => entry.path);
  if (staticNodeImports.length > 0) {
    throw new Error(
      `Cannot bundle ${entryFile} for the browser: it statically imports ${staticNodeImports.join(", ")}, which exist only in Node`,
    );
  }
  return result.outputFiles[0].text;
}

/**
 * Launches Chromium with a fresh profile and one blank page from a local server.
 *
 * @example
 * ```ts
 * let session: BrowserSession;
 * before(async () => { session = await openBrowser(); });
 * after(() => session?.close());
 * ```
 */
export async function openBrowser(options: BrowserOptions = {}): Promise<BrowserSession> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const executablePath = findChromium(options.executablePath);
  const bundles = new Map<string, string>();
  const server = await startServer(bundles, options.files);
  let profile: string | null = null;
  let context: BrowserContext | null = null;
  try {
    profile = await mkdtemp(join(tmpdir(), "spo-chromium-"));
    const started = performance.now();
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      // `--headless=new` in the flags runs the full browser headless (the old headless shell has no WebGPU)
      headless: false,
      args: [...CHROMIUM_ARGS, ...(options.extraArgs ?? [])],
      timeout: timeoutMs,
    });
    const launchMs = performance.now() - started;
    const page = context.pages()[0] ?? (await context.newPage());
    const session = new Session(page, context, server, profile, launchMs, bundles, timeoutMs);
    await page.goto(`${session.origin}/`, { timeout: timeoutMs });
    return session;
  } catch (error) {
    await closeQuietly(context, server, profile);
    throw error;
  }
}

/**
 * Runs `fn` with an open browser session and always closes it afterwards.
 *
 * @example
 * ```ts
 * const info = await withBrowserPage((session) => session.page.evaluate("navigator.userAgent"));
 * ```
 */
export async function withBrowserPage<T>(fn: (session: BrowserSession) => Promise<T>, options: BrowserOptions = {}): Promise<T> {
  const session = await openBrowser(options);
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}

/**
 * One-shot: launches Chromium, calls `exportName(...args)` from `entryFile` in the page, returns the
 * result and closes everything. Prefer `openBrowser` when a test file makes several calls.
 *
 * @example
 * ```ts
 * const hasGpu = await runInBrowser("packages/wgpu-tensor/test/browser/computations.ts", "hasNavigatorGpu");
 * ```
 */
export async function runInBrowser<T = unknown>(
  entryFile: string,
  exportName: string,
  args: readonly unknown[] = [],
  options: BrowserOptions = {},
): Promise<T> {
  return withBrowserPage((session) => session.call<T>(entryFile, exportName, ...args), options);
}

/** Page-side code of `call`: imports the bundle, calls the export, encodes typed arrays as bytes. */
const PAGE_CALL = `async ({ url, name, args }) => {
  const module = await import(url);
  if (typeof module[name] !== "function") throw new Error("The bundle has no exported function " + name);
  const value = await module[name](...args);
  const toBase64 = (view) => {
    const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    let text = "";
    for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(text);
  };
  return JSON.stringify(value === undefined ? null : value, (key, v) =>
    ArrayBuffer.isView(v) ? { $typedArray: v.constructor.name, base64: toBase64(v) } : v);
}`;

const TYPED_ARRAYS: Record<string, new (buffer: ArrayBuffer) => ArrayBufferView> = {
  Float32Array,
  Float64Array,
  Int32Array,
  Uint32Array,
  Int16Array,
  Uint16Array,
  Int8Array,
  Uint8Array,
};

function decodeResult(json: string): unknown {
  return JSON.parse(json, (_key, value) => {
    if (value === null || typeof value !== "object" || typeof value.$typedArray !== "string") return value;
    const bytes = Buffer.from(value.base64, "base64");
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const TypedArray = TYPED_ARRAYS[value.$typedArray];
    if (!TypedArray) throw new TypeError(`Cannot decode a ${value.$typedArray} from the page`);
    return new TypedArray(buffer);
  });
}

class Session implements BrowserSession {
  readonly console: string[] = [];
  readonly origin: string;
  #bundleIds = new Map<string, string>();
  #isClosed = false;

  constructor(
    readonly page: Page,
    readonly context: BrowserContext,
    readonly server: Server,
    readonly profile: string,
    readonly launchMs: number,
    readonly bundles: Map<string, string>,
    readonly timeoutMs: number,
  ) {
    this.origin = serverUrl(server);
    page.on("console", (message) => this.console.push(`[${message.type()}] ${message.text()}`));
    page.on("pageerror", (error) => this.console.push(`[pageerror] ${error.message}`));
  }

  async call<T>(entryFile: string, exportName: string, ...args: unknown[]): Promise<T> {
    const path = resolve(entryFile);
    let id = this.#bundleIds.get(path);
    if (id === undefined) {
      id = `${this.#bundleIds.size}.js`;
      this.bundles.set(id, await bundleForBrowser(path));
      this.#bundleIds.set(path, id);
    }
    const what = `${exportName}() from ${entryFile} in Chromium`;
    try {
      const json = await withTimeout(
        this.page.evaluate(`(${PAGE_CALL})(${JSON.stringify({ url: `/bundles/${id}`, name: exportName, args })})`) as Promise<string>,
        this.timeoutMs,
        what,
      );
      return decodeResult(json) as T;
    } catch (error) {
      const log = this.console.slice(-20).join("\n");
      throw new Error(`Cannot run ${what}: ${(error as Error).message}${log ? `\nPage console:\n${log}` : ""}`, { cause: error });
    }
  }

  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    await closeQuietly(this.context, this.server, this.profile);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function findChromium(explicit: string | undefined): string {
  const candidates = explicit ? [explicit] : CHROMIUM_PATHS;
  const found = candidates.find((path) => existsSync(path));
  if (!found) {
    throw new Error(
      `Cannot launch Chromium for the browser tests: none found at ${candidates.join(", ")}. ` +
        "Run `bash scripts/bootstrap.sh --browser` (what `npm test` does), or install it with `apt-get install chromium` " +
        "on Debian. Playwright's own browser downloads are not used.",
    );
  }
  return found;
}

const PAGE_HTML = '<!doctype html><meta charset="utf-8"><title>@spo browser test</title>';

function startServer(bundles: ReadonlyMap<string, string>, files: string | undefined): Promise<Server> {
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const headers = { "cache-control": "no-store" };
    if (files !== undefined && url.pathname.startsWith("/files/")) {
      serveStaticFile(request, response, files, decodeURIComponent(url.pathname.slice("/files/".length))).catch(() => response.destroy());
      return;
    }
    if (url.pathname === "/") {
      response.writeHead(200, { ...headers, "content-type": "text/html; charset=utf-8" }).end(PAGE_HTML);
      return;
    }
    const bundle = url.pathname.startsWith("/bundles/") ? bundles.get(url.pathname.slice("/bundles/".length)) : undefined;
    if (bundle === undefined) {
      response.writeHead(404, headers).end();
      return;
    }
    response.writeHead(200, { ...headers, "content-type": "text/javascript; charset=utf-8" }).end(bundle);
  });
  return new Promise((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolvePromise(server));
  });
}

function serverUrl(server: Server): string {
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("Cannot read the test server's address");
  return `http://127.0.0.1:${address.port}`;
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Best-effort teardown: each step runs even if an earlier one failed or hung. */
async function closeQuietly(context: BrowserContext | null, server: Server, profile: string | null): Promise<void> {
  if (context) await withTimeout(context.close(), 15_000, "Closing Chromium").catch(() => {});
  server.closeAllConnections();
  await new Promise<void>((done) => server.close(() => done()));
  if (profile) await rm(profile, { recursive: true, force: true }).catch(() => {});
}
