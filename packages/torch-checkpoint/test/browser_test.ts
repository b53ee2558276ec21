// The reader in Chromium: the oracle checkpoints (and a deflated one, inflated by the browser's
// DecompressionStream) opened by URL with range requests and as Blobs give the bytes Node gives.
import assert from "node:assert/strict";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { type BrowserSession, openBrowser } from "../../wgpu-tensor/testing/browser_node.ts";
import { readTorchCheckpointFile } from "../file_reader_node.ts";
import { bytesSource } from "../byte_source.ts";
import { ZipArchive } from "../zip/zip_archive.ts";
import type { PageRead } from "./browser/read_entry.ts";
import { writeZip } from "./_zip_writer.ts";

const ENTRY = fileURLToPath(new URL("./browser/read_entry.ts", import.meta.url));
const FIXTURES = fileURLToPath(new URL("./fixtures/oracle/", import.meta.url));
const FILES = ["torch_state_dict.bin", "torch_lightning.ckpt", "torch_views.pt", "torch_legacy.pt", "torch_evil_os_system.bin"];
const TIMEOUT_MS = 120_000;

let folder: string;
let session: BrowserSession;

before(
  async () => {
    folder = await mkdtemp(join(tmpdir(), "torch-browser-"));
    for (const name of FILES) await copyFile(join(FIXTURES, name), join(folder, name));
    // the views checkpoint again, every record deflated
    const archive = await ZipArchive.open(bytesSource(new Uint8Array(await readFile(join(FIXTURES, "torch_views.pt")))));
    const members = await Promise.all(
      archive.names.map(async (name) => ({ name, bytes: await archive.readWhole(archive.entry(name)), deflate: true })),
    );
    await writeFile(join(folder, "torch_views_deflated.pt"), writeZip(members));
    session = await openBrowser({ timeoutMs: TIMEOUT_MS, files: folder });
  },
  { timeout: TIMEOUT_MS },
);

after(async () => {
  await session?.close();
  if (folder) await rm(folder, { recursive: true, force: true });
});

async function nodeRead(path: string): Promise<{ names: string[]; tensors: Map<string, Uint8Array> }> {
  await using checkpoint = await readTorchCheckpointFile(path);
  const tensors = new Map<string, Uint8Array>();
  for (const name of checkpoint.names) tensors.set(name, (await checkpoint.tensor(name)).data);
  return { names: checkpoint.names, tensors };
}

test("Chromium reads the checkpoints by URL and as Blobs, byte for byte as Node does", { timeout: TIMEOUT_MS }, async () => {
  for (const name of [...FILES.slice(0, -1), "torch_views_deflated.pt"]) {
    const node = await nodeRead(join(folder, name));
    for (const how of ["readByUrl", "readAsBlob"]) {
      const page = await session.call<PageRead>(ENTRY, how, name);
      assert.equal(page.error, undefined, `${name} ${how}: ${JSON.stringify(page.error)}`);
      assert.deepEqual(page.names, node.names, `${name} ${how}`);
      for (const [tensor, bytes] of node.tensors)
        assert.deepEqual(new Uint8Array(page.tensors[tensor]!), bytes, `${name} ${how} ${tensor}`);
    }
  }
  const lightning = await session.call<PageRead>(ENTRY, "readByUrl", "torch_lightning.ckpt");
  assert.equal(lightning.values.global_step, 470001);
  const evil = await session.call<PageRead>(ENTRY, "readByUrl", "torch_evil_os_system.bin");
  assert.deepEqual(evil.error, { code: "forbidden_global", globalName: "posix.system" });
});
