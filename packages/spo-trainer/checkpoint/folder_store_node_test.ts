// The run folder's checkpoint store: a crash between writing a checkpoint's folder and moving the
// latest pointer (or while writing its files) leaves the previous checkpoint the latest, and the
// next save over the half-done name works.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, it } from "node:test";
import { folderCheckpointStore } from "./folder_store_node.ts";
import { CheckpointError } from "./training_checkpoint.ts";

const root = mkdtempSync(join(tmpdir(), "spo-store-"));
after(() => rmSync(root, { recursive: true, force: true }));
const files = (text: string) =>
  new Map([
    ["state.json", new TextEncoder().encode(text)],
    ["lora.safetensors", Uint8Array.of(1, 2, 3)],
  ]);
const text = (f: Map<string, Uint8Array> | undefined) => new TextDecoder().decode(f?.get("state.json"));

it("keeps the last complete checkpoint the latest whatever a crash left behind", async () => {
  const store = folderCheckpointStore(root);
  assert.equal(await store.latest(), null);
  const location = await store.save("checkpoint-000001", files("one"));
  assert.equal(location, join(root, "checkpoints", "checkpoint-000001"));
  assert.equal(text((await store.latest())?.files), "one");

  // a crash while writing checkpoint 2's files: its temporary folder stays behind
  mkdirSync(join(root, "checkpoints", ".checkpoint-000002.tmp-99999"));
  writeFileSync(join(root, "checkpoints", ".checkpoint-000002.tmp-99999", "state.json"), "half");
  // a crash after renaming checkpoint 2 into place but before moving the pointer
  mkdirSync(join(root, "checkpoints", "checkpoint-000002"));
  writeFileSync(join(root, "checkpoints", "checkpoint-000002", "state.json"), "stale");
  const latest = await store.latest();
  assert.equal(latest?.name, "checkpoint-000001");
  assert.equal(text(latest?.files), "one");

  // the resumed run writes checkpoint 2 again, over the stale folder
  await store.save("checkpoint-000002", files("two"));
  assert.equal(text((await store.latest())?.files), "two");
  assert.deepEqual(JSON.parse(readFileSync(join(root, "checkpoints", "latest.json"), "utf8")), { name: "checkpoint-000002" });

  await assert.rejects(store.save("../escape", files("x")), CheckpointError);
  writeFileSync(join(root, "checkpoints", "latest.json"), "{}");
  await assert.rejects(store.latest(), /names no checkpoint/);
});
