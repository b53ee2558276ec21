// The same checkpoint through every source: a file on disk, a URL read by HTTP range requests, a
// Blob; and openWeights telling safetensors from checkpoints by their first bytes.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseSafetensors, serializeSafetensors, toFloat32Array } from "@spo/safetensors";
import { openWeights, readTorchCheckpointFile } from "../file_reader_node.ts";
import { openTorchCheckpointBlob, openTorchCheckpointUrl } from "../openers.ts";
import { startRangeServer } from "../../safetensors/test/_range_server_node.ts";
import { assertRejectsWith } from "./_assert_error.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/oracle/", import.meta.url));
let folder = "";

before(async () => {
  folder = await mkdtemp(join(tmpdir(), "torch-checkpoint-"));
});
after(async () => {
  await rm(folder, { recursive: true, force: true });
});

async function expectedTensors(name: string) {
  return parseSafetensors(await readFile(join(FIXTURES, `${name}.expected.safetensors`))).tensors;
}

test("readTorchCheckpointFile() reads a .ckpt from disk tensor by tensor, equal to the expected tensors", async () => {
  const expected = await expectedTensors("torch_lightning");
  await using checkpoint = await readTorchCheckpointFile(join(FIXTURES, "torch_lightning.ckpt"));
  for (const [name, tensor] of expected) assert.deepEqual((await checkpoint.tensor(name)).data, tensor.data, name);
  assert.equal(checkpoint.values.get("name"), "sd-tiny");
});

test("openTorchCheckpointUrl() reads the directory and pickle, then each tensor with one small range request", async () => {
  const bytes = new Uint8Array(await readFile(join(FIXTURES, "torch_state_dict.bin")));
  const server = await startRangeServer(bytes);
  try {
    await using checkpoint = await openTorchCheckpointUrl(server.url);
    const opened = server.requests.length;
    const tensor = await checkpoint.tensor("layer3.weight");
    const expected = (await expectedTensors("torch_state_dict")).get("layer3.weight")!;
    assert.deepEqual(tensor.data, expected.data);
    const reads = server.requests.slice(opened).map((request) => request.range);
    assert.equal(reads.length, 2, `local header and data: ${reads.join(" ")}`);
    assert.ok(server.bytesSent < bytes.length * 2, `${server.bytesSent} bytes sent for a ${bytes.length}-byte file`);
  } finally {
    await server.close();
  }
});

test("openWeights() reads a .ckpt at a URL as its state dict", async () => {
  const server = await startRangeServer(new Uint8Array(await readFile(join(FIXTURES, "torch_lightning.ckpt"))));
  try {
    await using weights = await openWeights(server.url);
    assert.equal(weights.names.length, 3);
    const expected = (await expectedTensors("torch_lightning")).get("state_dict/model.diffusion_model.block2.weight")!;
    assert.deepEqual((await weights.tensor("model.diffusion_model.block2.weight")).data, expected.data);
  } finally {
    await server.close();
  }
});

test("openTorchCheckpointBlob() reads a legacy .pt from a Blob", async () => {
  const bytes = await readFile(join(FIXTURES, "torch_legacy.pt"));
  await using checkpoint = await openTorchCheckpointBlob(new Blob([bytes]));
  assert.equal(checkpoint.format, "legacy");
  const expected = await expectedTensors("torch_legacy");
  assert.deepEqual((await checkpoint.tensor("w")).data, expected.get("w")!.data);
});

test("openWeights() opens safetensors as they are and checkpoints as their state dict", async () => {
  const safetensorsPath = join(folder, "weights.safetensors");
  await writeFile(safetensorsPath, serializeSafetensors({ "model.w": { dtype: "F32", shape: [2], data: new Float32Array([1, 2]) } }));
  await using fromSafetensors = await openWeights(safetensorsPath);
  assert.deepEqual(fromSafetensors.names, ["model.w"]);
  await using fromCkpt = await openWeights(join(FIXTURES, "torch_lightning.ckpt"));
  assert.deepEqual(fromCkpt.names, [
    "model.diffusion_model.block0.weight",
    "model.diffusion_model.block1.weight",
    "model.diffusion_model.block2.weight",
  ]);
  const expected = (await expectedTensors("torch_lightning")).get("state_dict/model.diffusion_model.block1.weight")!;
  assert.deepEqual((await fromCkpt.float32("model.diffusion_model.block1.weight")).data, toFloat32Array(expected));
  await using fromBytes = await openWeights(new Uint8Array(await readFile(join(FIXTURES, "torch_state_dict.bin"))));
  assert.equal(fromBytes.names.length, 13);
});

test("openWeights() refuses files of neither kind and missing files with typed errors", async () => {
  const junk = join(folder, "junk.bin");
  await writeFile(junk, "definitely not weights");
  await assertRejectsWith(openWeights(junk), "not_a_checkpoint", /neither safetensors nor a PyTorch checkpoint/);
  await assertRejectsWith(openWeights(join(folder, "missing.ckpt")), "io", /missing\.ckpt/);
  await assertRejectsWith(openWeights(join(FIXTURES, "torch_evil_os_system.bin")), "forbidden_global", /posix\.system/);
});
