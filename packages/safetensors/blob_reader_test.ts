import assert from "node:assert/strict";
import { test } from "node:test";
import { openSafetensorsBlob } from "./blob_reader.ts";
import { serializeSafetensors } from "./serialize.ts";
import { assertRejectsSafetensorsError } from "./test/_assert_error.ts";

test("openSafetensorsBlob() reads tensors of a Blob on demand", async () => {
  const bytes = serializeSafetensors({
    a: { dtype: "U8", shape: [2], data: new Uint8Array([1, 2]) },
    b: { dtype: "I32", shape: [1], data: new Int32Array([-7]) },
  });
  const reader = await openSafetensorsBlob(new Blob([bytes]));
  assert.deepEqual(reader.names, ["b", "a"]);
  assert.deepEqual([...(await reader.tensor("a")).data], [1, 2]);
  assert.deepEqual([...new Int32Array((await reader.tensor("b")).data.buffer)], [-7]);
  await reader.close();
});

test("openSafetensorsBlob() names the File in header errors", async () => {
  const file = new File([new Uint8Array([1, 2, 3])], "weights.safetensors");
  await assertRejectsSafetensorsError(openSafetensorsBlob(file), {
    code: "file_too_small",
    message: 'Cannot parse safetensors file: file is 3 bytes, expected at least 8 for the header length (reading "weights.safetensors")',
  });
  const garbage = new Blob([new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7b])]);
  await assertRejectsSafetensorsError(openSafetensorsBlob(garbage), { code: "invalid_json", message: /\(reading a 10-byte blob\)$/ });
});
