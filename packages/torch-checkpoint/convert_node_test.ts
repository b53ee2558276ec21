import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseSafetensors } from "@spo/safetensors";
import { convertCheckpoint, runConvertCommand } from "./convert_node.ts";

const FIXTURES = fileURLToPath(new URL("./test/fixtures/oracle/", import.meta.url));
let folder = "";

before(async () => {
  folder = await mkdtemp(join(tmpdir(), "torch-convert-"));
});
after(async () => {
  await rm(folder, { recursive: true, force: true });
});

async function expected(name: string) {
  return parseSafetensors(await readFile(join(FIXTURES, `${name}.expected.safetensors`))).tensors;
}

test("convertCheckpoint() writes every tensor of a state dict, dtypes kept, as a valid safetensors file", async () => {
  const out = join(folder, "state_dict.safetensors");
  const report = await convertCheckpoint(join(FIXTURES, "torch_state_dict.bin"), out);
  assert.equal(report.tensorCount, 13);
  assert.equal(report.isStateDict, false);
  assert.equal((await stat(out)).size, report.byteLength);
  const written = parseSafetensors(await readFile(out));
  assert.deepEqual(written.metadata, { format: "pt" });
  const want = await expected("torch_state_dict");
  assert.deepEqual([...written.tensors.keys()].sort(), [...want.keys()].sort());
  for (const [name, tensor] of want) {
    const got = written.tensors.get(name)!;
    assert.equal(got.dtype, tensor.dtype, name);
    assert.deepEqual(got.shape, tensor.shape, name);
    assert.deepEqual(got.data, tensor.data, name);
  }
});

test("convertCheckpoint() keeps only state_dict of a .ckpt, without the prefix", async () => {
  const out = join(folder, "lightning.safetensors");
  const report = await convertCheckpoint(join(FIXTURES, "torch_lightning.ckpt"), out);
  assert.equal(report.isStateDict, true);
  const written = parseSafetensors(await readFile(out));
  for (const [name, tensor] of await expected("torch_lightning")) {
    assert.deepEqual(written.tensors.get(name.replace(/^state_dict\//, ""))!.data, tensor.data, name);
  }
});

test("runConvertCommand() prints what it did and returns 0, 1 for a refused file, 2 for bad arguments", async () => {
  const lines: string[] = [];
  const print = (line: string) => void lines.push(line);
  assert.equal(await runConvertCommand([join(FIXTURES, "torch_views.pt"), join(folder, "views.safetensors")], print), 0);
  assert.match(lines.at(-1)!, /^converted 8 tensors from .*torch_views\.pt to .*views\.safetensors \(\d+ bytes\)$/);
  assert.equal(await runConvertCommand([join(FIXTURES, "torch_evil_eval.bin"), join(folder, "evil.safetensors")], print), 1);
  assert.match(lines.at(-1)!, /^spo convert: .*builtins\.eval/);
  await assert.rejects(stat(join(folder, "evil.safetensors")), /ENOENT/);
  assert.equal(await runConvertCommand(["only-one"], print), 2);
  assert.match(lines.at(-1)!, /^usage: spo convert/);
});
