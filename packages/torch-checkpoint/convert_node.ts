/**
 * Converting a PyTorch checkpoint to safetensors in Node, streamed tensor by tensor, and the
 * `spo convert` command around it.
 *
 * @module
 */

import { open, rm } from "node:fs/promises";
import { dtypeByteSize, dtypeRank, type SafetensorsReader } from "@spo/safetensors";
import { TorchCheckpointError } from "./errors.ts";
import { readTorchCheckpointFile } from "./file_reader_node.ts";
import type { TorchOpenOptions } from "./torch_checkpoint.ts";

/** What {@link convertCheckpoint} wrote. */
export interface ConvertReport {
  /** Tensors written. */
  tensorCount: number;
  /** The size of the safetensors file. */
  byteLength: number;
  /** Whether the tensors came from the checkpoint's `state_dict` (prefix removed) rather than all of it. */
  isStateDict: boolean;
}

/** Safetensors' order: larger elements first (so every tensor is aligned), then by name. */
function fileOrder(reader: SafetensorsReader): string[] {
  return [...reader.names].sort((a, b) => {
    const byDtype = dtypeRank(reader.info(b).dtype) - dtypeRank(reader.info(a).dtype);
    if (byDtype !== 0) return byDtype;
    return a < b ? -1 : a > b ? 1 : 0;
  });
}

/** The 8-byte length and the JSON header, padded with spaces to a multiple of 8. */
function headerBytes(reader: SafetensorsReader, names: string[]): { head: Uint8Array; dataByteLength: number } {
  const header: Record<string, unknown> = { __metadata__: { format: "pt" } };
  let offset = 0;
  for (const name of names) {
    const { dtype, shape } = reader.info(name);
    const byteLength = shape.reduce((product, size) => product * size, 1) * dtypeByteSize(dtype);
    header[name] = { dtype, shape, data_offsets: [offset, offset + byteLength] };
    offset += byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const head = new Uint8Array(8 + padded).fill(0x20, 8);
  new DataView(head.buffer).setBigUint64(0, BigInt(padded), true);
  head.set(json, 8);
  return { head, dataByteLength: offset };
}

/**
 * Writes a checkpoint's weights (its `state_dict` when it has one, else every tensor) to a
 * safetensors file, dtypes kept, one tensor in memory at a time. Nothing is written when the
 * checkpoint cannot be read.
 *
 * @example
 * ```ts
 * import { convertCheckpoint } from "@spo/torch-checkpoint/node";
 * const report = await convertCheckpoint("model.ckpt", "model.safetensors");
 * console.log(report.tensorCount, report.byteLength);
 * ```
 */
export async function convertCheckpoint(inPath: string, outPath: string, options: TorchOpenOptions = {}): Promise<ConvertReport> {
  await using checkpoint = await readTorchCheckpointFile(inPath, options);
  const weights = checkpoint.stateDict();
  const names = fileOrder(weights);
  const { head, dataByteLength } = headerBytes(weights, names);
  // biome-ignore lint/suspicious/noImplicitAnyLet: typed by its assignment in the try block (control-flow inference)
  let handle;
  try {
    handle = await open(outPath, "w");
  } catch (cause) {
    throw new TorchCheckpointError("io", `Cannot write "${outPath}": ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  try {
    await handle.write(head);
    for (const name of names) {
      const { data } = await weights.tensor(name);
      let written = 0;
      while (written < data.length) written += (await handle.write(data, written, data.length - written)).bytesWritten;
    }
  } catch (error) {
    // a half-written file must not pass for a converted one
    await handle.close();
    await rm(outPath, { force: true });
    throw error;
  }
  await handle.close();
  return { tensorCount: names.length, byteLength: head.length + dataByteLength, isStateDict: checkpoint.hasStateDict };
}

const USAGE = "usage: spo convert <in.ckpt|.bin|.pt> <out.safetensors>";

function formatBytes(byteLength: number): string {
  if (byteLength >= 1e9) return `${(byteLength / 1e9).toFixed(2)} GB`;
  if (byteLength >= 1e6) return `${(byteLength / 1e6).toFixed(1)} MB`;
  return `${byteLength} bytes`;
}

/**
 * `spo convert <in> <out>`: the command behind the `spo` dispatcher. Prints through `print` and
 * returns the exit code: 0 done, 1 the checkpoint was refused or unreadable, 2 bad arguments.
 *
 * @example
 * ```ts
 * import { runConvertCommand } from "@spo/torch-checkpoint/node";
 * const code = await runConvertCommand(["model.ckpt", "model.safetensors"], console.log);
 * ```
 */
export async function runConvertCommand(args: string[], print: (line: string) => void): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    print(USAGE);
    print(
      "Writes the weights of a PyTorch checkpoint (its state_dict when present, else every tensor) as safetensors, dtypes kept. The checkpoint's code is never run.",
    );
    return 0;
  }
  if (args.length !== 2) {
    print(USAGE);
    return 2;
  }
  const [inPath, outPath] = args as [string, string];
  try {
    const report = await convertCheckpoint(inPath, outPath);
    const what = report.isStateDict ? "tensors of state_dict" : "tensors";
    print(`converted ${report.tensorCount} ${what} from ${inPath} to ${outPath} (${formatBytes(report.byteLength)})`);
    return 0;
  } catch (error) {
    if (!(error instanceof TorchCheckpointError)) throw error;
    print(`spo convert: ${error.message}`);
    return 1;
  }
}
