import { join } from "node:path";
import { readSafetensorsFile } from "../../../packages/safetensors/mod_node.ts";
import {
  type PlainValue,
  readTorchCheckpointFile,
  type TorchCheckpoint,
  TorchCheckpointError,
} from "../../../packages/torch-checkpoint/mod_node.ts";
import { type KindRunner, type ProducedOutput, UnsupportedCaseError } from "../kind_runner.ts";

interface TensorSpec {
  dtype: string;
  shape: number[];
}

/** A plain leaf as the manifest's JSON writes it (bytes as a list of ints, big ints as numbers). */
function jsonOf(value: PlainValue): unknown {
  if (typeof value === "bigint") return Number(value);
  if (value instanceof Uint8Array) return [...value];
  return value;
}

/** Each listed tensor: dtype and shape first, then its bytes exactly against the expected file's. */
async function tensorOutputs(
  checkpoint: TorchCheckpoint,
  manifestDir: string,
  manifest: Record<string, unknown>,
  outputs: Map<string, ProducedOutput>,
): Promise<void> {
  const specs = (manifest.tensors ?? {}) as Record<string, TensorSpec>;
  const wantNames = Object.keys(specs).sort();
  const gotNames = [...checkpoint.names].sort();
  await using expected = await readSafetensorsFile(join(manifestDir, String(manifest.expected_file)));
  for (const name of Object.keys(specs)) {
    const want = await expected.tensor(name);
    const wantHead = {
      names: wantNames,
      dtype: specs[name]!.dtype,
      shape: specs[name]!.shape,
      fileDtype: want.dtype,
      fileShape: want.shape,
    };
    if (!checkpoint.has(name)) {
      outputs.set(name, { type: "json", got: { names: gotNames }, want: wantHead });
      continue;
    }
    const info = checkpoint.info(name);
    const gotHead = { names: gotNames, dtype: info.dtype, shape: [...info.shape], fileDtype: info.dtype, fileShape: [...info.shape] };
    if (JSON.stringify(gotHead) !== JSON.stringify(wantHead)) {
      outputs.set(name, { type: "json", got: gotHead, want: wantHead });
      continue;
    }
    // byte for byte: exact for every dtype (NaN payloads, 64-bit ints, bf16 included)
    const got = await checkpoint.tensor(name);
    outputs.set(name, { type: "values", got: got.data, want: want.data });
  }
}

/**
 * `torch_checkpoint` cases: the checkpoint (`file`: .bin / .ckpt / .pt) through
 * @spo/torch-checkpoint. `expect: "load"`: every tensor key path with its dtype and shape, its
 * bytes equal to `expected_file`'s, the format, and every plain value; `expect: "refuse"`: the
 * reader throws a TorchCheckpointError whose message contains `error_contains`.
 */
export const torchCheckpointKind: KindRunner = {
  kind: "torch_checkpoint",
  async run(context) {
    const manifest = context.manifest as Record<string, unknown>;
    const path = join(context.folder, String(manifest.file));
    const outputs = new Map<string, ProducedOutput>();
    if (manifest.expect === "refuse") {
      const want = String(manifest.error_contains);
      let got: string;
      try {
        await (await readTorchCheckpointFile(path)).close();
        got = "the checkpoint was read without an error";
      } catch (error) {
        if (!(error instanceof TorchCheckpointError)) throw error;
        got = error.message.includes(want) ? want : `${error.code}: ${error.message}`;
      }
      outputs.set("error", { type: "json", got, want });
      return outputs;
    }
    if (manifest.expect !== "load")
      throw new UnsupportedCaseError(`${context.manifest.name}: expect is ${JSON.stringify(manifest.expect)}, expected "load" or "refuse"`);
    await using checkpoint = await readTorchCheckpointFile(path);
    await tensorOutputs(checkpoint, context.folder, manifest, outputs);
    const values = Object.fromEntries([...checkpoint.values].map(([key, value]) => [key, jsonOf(value)]));
    const wantValues = { format: manifest.format ?? checkpoint.format, values: manifest.values ?? {} };
    outputs.set("values", { type: "json", got: { format: checkpoint.format, values }, want: wantValues });
    return outputs;
  },
};
