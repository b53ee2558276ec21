import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, test } from "node:test";
import { parseSafetensors } from "./parse.ts";
import { serializeSafetensors } from "./serialize.ts";
import { DEFAULT_URL_TIMEOUT_MS, openSafetensorsUrl } from "./url_reader.ts";
import { assertRejectsSafetensorsError } from "./test/_assert_error.ts";
import { startRangeServer, type RangeServer } from "./test/_range_server_node.ts";

const FIXTURE = new URL("./test/fixtures/clip_text.safetensors", import.meta.url);
let file: Uint8Array;
const servers: RangeServer[] = [];

async function serve(bytes: Uint8Array, options?: Parameters<typeof startRangeServer>[1]): Promise<RangeServer> {
  const server = await startRangeServer(bytes, options);
  servers.push(server);
  return server;
}

before(async () => {
  file = new Uint8Array(await readFile(FIXTURE));
});

after(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

test("openSafetensorsUrl() reads the header in one request and each tensor on demand", async () => {
  const server = await serve(file);
  const reader = await openSafetensorsUrl(server.url, { prefetchByteLength: 16 * 1024 });
  assert.deepEqual(
    server.requests.map((request) => request.range),
    ["bytes=0-16383"],
  );
  assert.equal(reader.byteLength, file.length);
  assert.equal(reader.names.length, 95);
  const pooled = await reader.tensor("pooled_index");
  const { byteOffset, byteLength } = reader.info("pooled_index");
  assert.equal(server.requests[1]!.range, `bytes=${byteOffset}-${byteOffset + byteLength - 1}`);
  assert.deepEqual(pooled.data, parseSafetensors(file).tensors.get("pooled_index")!.data);
  // 16 KiB of header and 32 bytes of one tensor out of a 603 180-byte file.
  assert.equal(server.bytesSent, 16 * 1024 + 32);
  await reader.close();
});

test("openSafetensorsUrl() fetches the rest of a header larger than the first request", async () => {
  const server = await serve(file);
  const reader = await openSafetensorsUrl(new URL(server.url), { prefetchByteLength: 1000 });
  const headerEnd = reader.header.dataByteOffset;
  assert.deepEqual(
    server.requests.map((request) => request.range),
    ["bytes=0-999", `bytes=8-${headerEnd - 1}`],
  );
  assert.equal(server.bytesSent, 1000 + headerEnd - 8);
});

test("openSafetensorsUrl() reads every tensor like parseSafetensors() does", async () => {
  const server = await serve(file);
  const reader = await openSafetensorsUrl(server.url);
  assert.deepEqual(await reader.readAll(), parseSafetensors(file).tensors);
  assert.equal(server.requests.length, 2);
});

test("openSafetensorsUrl() works with a server that does not tell the file size", async () => {
  const server = await serve(file, { mode: "unknown-size" });
  const reader = await openSafetensorsUrl(server.url, { prefetchByteLength: 64 });
  assert.equal(reader.byteLength, file.length);
  const ids = await reader.tensor("input_ids");
  assert.deepEqual(ids.data, parseSafetensors(file).tensors.get("input_ids")!.data);
});

test("openSafetensorsUrl() falls back to one full download when the server ignores Range", async () => {
  const server = await serve(file, { mode: "ignore-range" });
  const reader = await openSafetensorsUrl(server.url, { prefetchByteLength: 64 });
  const ids = await reader.tensor("input_ids");
  await reader.tensor("last_hidden_state");
  assert.deepEqual(ids.data, parseSafetensors(file).tensors.get("input_ids")!.data);
  assert.equal(server.requests.length, 1);
  assert.equal(server.bytesSent, file.length);
});

test("openSafetensorsUrl() refuses a full download when allowFullDownload is false", async () => {
  const server = await serve(file, { mode: "ignore-range" });
  await assertRejectsSafetensorsError(openSafetensorsUrl(server.url, { allowFullDownload: false }), {
    code: "http",
    message: /server ignored the Range header and sent the whole file \(200\), expected 206 Partial Content/,
  });
});

test("openSafetensorsUrl() reports 4xx and 5xx answers with the status", async () => {
  const missing = await serve(file, { status: 404 });
  await assertRejectsSafetensorsError(openSafetensorsUrl(missing.url), {
    code: "http",
    message: `Cannot fetch bytes [0, 262144) of ${missing.url}: server answered 404 Not Found, expected 206 Partial Content (reading ${missing.url})`,
  });
  const flaky = await serve(file, { failFromRequest: 1 });
  const reader = await openSafetensorsUrl(flaky.url);
  await assertRejectsSafetensorsError(reader.tensor("input_ids"), { code: "http", message: /server answered 500 Internal Server Error/ });
});

test("openSafetensorsUrl() reports a failed connection", async () => {
  const server = await serve(file);
  const url = server.url;
  await server.close();
  await assertRejectsSafetensorsError(openSafetensorsUrl(url), { code: "http", message: /request failed/ });
});

test("openSafetensorsUrl() rejects an empty file answered with 416", async () => {
  const server = await serve(new Uint8Array(0));
  await assertRejectsSafetensorsError(openSafetensorsUrl(server.url), { code: "file_too_small" });
});

test("openSafetensorsUrl() validates headers with the shared rules", async () => {
  const bytes = serializeSafetensors({ a: { dtype: "U8", shape: [4], data: new Uint8Array(4) } });
  const server = await serve(bytes.subarray(0, bytes.length - 1));
  await assertRejectsSafetensorsError(openSafetensorsUrl(server.url), { code: "offsets_out_of_bounds", tensorName: "a" });
});

test("openSafetensorsUrl() sends extra headers and uses the given fetch", async () => {
  const server = await serve(file);
  let calls = 0;
  const countingFetch: typeof fetch = (input, init) => {
    calls += 1;
    return fetch(input, init);
  };
  const reader = await openSafetensorsUrl(server.url, { fetch: countingFetch, headers: { Authorization: "Bearer token" } });
  await reader.tensor("pooled_index");
  assert.equal(calls, 2);
  assert.ok(server.requests.every((request) => request.headers.authorization === "Bearer token"));
});

test("openSafetensorsUrl() gives up on a server that never answers, or stops sending, after timeoutMs", async () => {
  const silent = await serve(file, { stall: { what: "answer", fromRequest: 0 } });
  await assertRejectsSafetensorsError(openSafetensorsUrl(silent.url, { timeoutMs: 300 }), {
    code: "timeout",
    message: `Cannot fetch bytes [0, 262144) of ${silent.url}: no answer for 300 ms (timeoutMs) (reading ${silent.url})`,
  });
  const stalling = await serve(file, { stall: { what: "body", fromRequest: 1 } });
  const reader = await openSafetensorsUrl(stalling.url, { timeoutMs: 300 });
  await assertRejectsSafetensorsError(reader.tensor("last_hidden_state"), { code: "timeout", message: /no data for 300 ms \(timeoutMs\)/ });
  // without the option a default applies: a silent server is never waited on forever
  assert.ok(Number.isFinite(DEFAULT_URL_TIMEOUT_MS) && DEFAULT_URL_TIMEOUT_MS > 0 && DEFAULT_URL_TIMEOUT_MS <= 120_000);
});

test("openSafetensorsUrl() with a caller's abort signal reports the abort, not a timeout", async () => {
  const silent = await serve(file, { stall: { what: "answer", fromRequest: 0 } });
  const controller = new AbortController();
  const opening = openSafetensorsUrl(silent.url, { signal: controller.signal });
  setTimeout(() => controller.abort(), 50);
  await assertRejectsSafetensorsError(opening, { code: "http", message: /request failed \(.*abort/i });
});
