import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import fc from "fast-check";
import { writeSafetensorsFile } from "./file_writer_node.ts";
import { serializeSafetensors } from "./serialize.ts";
import { metadataArb, tensorsArb } from "./test/_arbitraries.ts";
import { assertRejectsSafetensorsError } from "./test/_assert_error.ts";

let directory: string;

before(async () => {
  directory = await mkdtemp(join(tmpdir(), "safetensors-write-"));
});

after(async () => {
  await rm(directory, { recursive: true, force: true });
});

test("writeSafetensorsFile() writes exactly the bytes of serializeSafetensors()", async () => {
  const path = join(directory, "out.safetensors");
  await fc.assert(
    fc.asyncProperty(tensorsArb, metadataArb, async (tensors, metadata) => {
      await writeSafetensorsFile(path, tensors, metadata);
      assert.deepEqual(new Uint8Array(await readFile(path)), serializeSafetensors(tensors, metadata));
    }),
    { numRuns: 30 },
  );
});

test("writeSafetensorsFile() checks its input before creating the file", async () => {
  const path = join(directory, "never.safetensors");
  await assert.rejects(writeSafetensorsFile(path, { x: { dtype: "F32", shape: [2], data: new Float32Array(1) } }), {
    code: "invalid_tensor",
  });
  await assert.rejects(readFile(path), { code: "ENOENT" });
});

test("writeSafetensorsFile() reports a path it cannot write as an io error", async () => {
  await assertRejectsSafetensorsError(writeSafetensorsFile(join(directory, "no", "such", "dir.safetensors"), {}), {
    code: "io",
    message: /^Cannot write safetensors file ".*dir.safetensors": ENOENT/,
  });
});
