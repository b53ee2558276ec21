// Time to read a large PyTorch checkpoint with @spo/torch-checkpoint, against reading the same
// tensors from a safetensors file with @spo/safetensors, measured in the same run from the same
// (warm) page cache. The checkpoint is synthetic: SD1.5-UNet-like shapes in F16 and F32, random
// bytes, wrapped in `state_dict` as an A1111 .ckpt, written in torch.save's zip layout (stored
// records) by a streaming writer below; the safetensors file holds the same tensors.
//
//   node --conditions=@spo/source --import tsx benchmarks/torch_checkpoint_read.ts [megabytes, default 800] [--keep]
//
// Prints, for each side, the median (and min–max) of 5 alternating runs of: open (directory,
// pickle / header), every tensor read one by one with tensor(name) (what loadWeights does),
// readAll(), and float32() of every tensor; then the ratio torch / safetensors, and the time of
// `convertCheckpoint` (.ckpt → .safetensors).

import { randomFillSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { readSafetensorsFile, type SafetensorsReader, type TensorInput, writeSafetensorsFile } from "@spo/safetensors/node";
import { convertCheckpoint, readTorchCheckpointFile } from "@spo/torch-checkpoint/node";
import { OP, PickleBuilder, pickleTensor } from "../packages/torch-checkpoint/testing/pickle_builder.ts";

const megabytes = Number(process.argv.find((arg) => /^\d+$/.test(arg)) ?? 800);
const keep = process.argv.includes("--keep");

/** Shapes of SD1.5 UNet weights (a cycle of them, repeated until the size is reached). */
const SHAPES: number[][] = [
  [320, 4, 3, 3],
  [320],
  [1280, 320],
  [1280],
  [320, 320, 3, 3],
  [320, 320],
  [2560, 320],
  [320, 1280],
  [640, 320, 3, 3],
  [640, 640, 3, 3],
  [640, 640],
  [5120, 640],
  [640, 2560],
  [1280, 640, 3, 3],
  [1280, 1280, 3, 3],
  [1280, 1280],
  [10240, 1280],
  [1280, 5120],
  [640, 768],
  [1280, 768],
];

function makeTensors(targetBytes: number): Map<string, TensorInput> {
  const tensors = new Map<string, TensorInput>();
  let total = 0;
  for (let index = 0; total < targetBytes; index++) {
    const shape = SHAPES[index % SHAPES.length]!;
    const dtype = index % 3 === 2 ? "F32" : "F16";
    const byteLength = shape.reduce((a, b) => a * b, 1) * (dtype === "F32" ? 4 : 2);
    const data = randomFillSync(new Uint8Array(byteLength));
    tensors.set(`model.diffusion_model.block${index}.weight`, { dtype, shape, data });
    total += byteLength;
  }
  return tensors;
}

function le(size: number, value: number): Uint8Array {
  return Uint8Array.from({ length: size }, (_, i) => Math.floor(value / 2 ** (8 * i)) & 0xff);
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += (await handle.write(bytes, written, bytes.length - written)).bytesWritten;
}

/** torch.save's layout: archive/data.pkl, archive/data/<i> (stored), archive/version; below 4 GiB, no zip64. */
async function writeCheckpoint(path: string, tensors: Map<string, TensorInput>): Promise<void> {
  const builder = new PickleBuilder()
    .op(OP.PROTO, 2, OP.EMPTY_DICT, OP.MARK)
    .str("state_dict")
    .global("collections", "OrderedDict")
    .op(OP.EMPTY_TUPLE, OP.REDUCE, OP.MARK);
  const members: [string, Uint8Array][] = [];
  [...tensors].forEach(([name, tensor], index) => {
    builder.str(name);
    const storageClass = tensor.dtype === "F32" ? "FloatStorage" : "HalfStorage";
    const data = tensor.data as Uint8Array;
    pickleTensor(builder, {
      storageKey: String(index),
      storageClass,
      storageNumel: data.length / (tensor.dtype === "F32" ? 4 : 2),
      shape: [...tensor.shape],
    });
    members.push([`archive/data/${index}`, data]);
  });
  builder.op(OP.SETITEMS).str("global_step").int(470000).op(OP.SETITEMS, OP.STOP);
  members.unshift(["archive/data.pkl", builder.build()]);
  members.push(["archive/version", new TextEncoder().encode("3\n")]);
  const handle = await open(path, "w");
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const [name, bytes] of members) {
    const nameBytes = new TextEncoder().encode(name);
    const crc = crc32(bytes);
    const common = [
      le(2, 20),
      le(2, 0),
      le(2, 0),
      le(4, 0),
      le(4, crc),
      le(4, bytes.length),
      le(4, bytes.length),
      le(2, nameBytes.length),
      le(2, 0),
    ];
    const local = concat([le(4, 0x04034b50), ...common, nameBytes]);
    central.push(concat([le(4, 0x02014b50), le(2, 20), ...common, le(2, 0), le(2, 0), le(2, 0), le(4, 0), le(4, offset), nameBytes]));
    await writeAll(handle, local);
    await writeAll(handle, bytes);
    offset += local.length + bytes.length;
  }
  const directory = concat(central);
  await writeAll(handle, directory);
  await writeAll(
    handle,
    concat([le(4, 0x06054b50), le(4, 0), le(2, members.length), le(2, members.length), le(4, directory.length), le(4, offset), le(2, 0)]),
  );
  await handle.close();
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

interface Timings {
  open: number[];
  tensorByTensor: number[];
  readAll: number[];
  float32: number[];
}

async function timeOne(openReader: () => Promise<SafetensorsReader>, timings: Timings): Promise<number> {
  let started = performance.now();
  let reader = await openReader();
  timings.open.push(performance.now() - started);
  started = performance.now();
  let bytes = 0;
  for (const name of reader.names) bytes += (await reader.tensor(name)).data.length;
  timings.tensorByTensor.push(performance.now() - started);
  started = performance.now();
  await reader.readAll();
  timings.readAll.push(performance.now() - started);
  started = performance.now();
  for (const name of reader.names) await reader.float32(name);
  timings.float32.push(performance.now() - started);
  await reader.close();
  reader = undefined as never;
  return bytes;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function describe(values: number[]): string {
  return `${median(values).toFixed(1)} ms (${Math.min(...values).toFixed(1)}–${Math.max(...values).toFixed(1)})`;
}

const folder = mkdtempSync(join(tmpdir(), "torch-bench-"));
try {
  const tensors = makeTensors(megabytes * 1e6);
  const ckptPath = join(folder, "model.ckpt");
  const safetensorsPath = join(folder, "model.safetensors");
  await writeCheckpoint(ckptPath, tensors);
  await writeSafetensorsFile(safetensorsPath, tensors);
  const byteLength = [...tensors.values()].reduce((sum, t) => sum + t.data.byteLength, 0);
  console.log(`${tensors.size} tensors, ${(byteLength / 1e6).toFixed(0)} MB (F16 and F32), files in ${folder}`);
  const torch: Timings = { open: [], tensorByTensor: [], readAll: [], float32: [] };
  const safe: Timings = { open: [], tensorByTensor: [], readAll: [], float32: [] };
  // a first pass of each warms the page cache; then 5 alternating timed runs
  await timeOne(async () => (await readTorchCheckpointFile(ckptPath)).stateDict(), {
    open: [],
    tensorByTensor: [],
    readAll: [],
    float32: [],
  });
  await timeOne(() => readSafetensorsFile(safetensorsPath), { open: [], tensorByTensor: [], readAll: [], float32: [] });
  for (let run = 0; run < 5; run++) {
    await timeOne(async () => (await readTorchCheckpointFile(ckptPath)).stateDict(), torch);
    await timeOne(() => readSafetensorsFile(safetensorsPath), safe);
  }
  const rows: [string, keyof Timings][] = [
    ["open", "open"],
    ["tensor() one by one", "tensorByTensor"],
    ["readAll()", "readAll"],
    ["float32() of every tensor", "float32"],
  ];
  console.log(`| step | .ckpt (torch-checkpoint) | .safetensors | ratio ckpt/safetensors |`);
  console.log(`|---|---|---|---|`);
  for (const [label, key] of rows) {
    const ratio = median(torch[key]) / median(safe[key]);
    console.log(`| ${label} | ${describe(torch[key])} | ${describe(safe[key])} | ${ratio.toFixed(2)}× |`);
  }
  const gbps = (key: keyof Timings, timings: Timings) => (byteLength / 1e9 / (median(timings[key]) / 1000)).toFixed(2);
  console.log(
    `tensor by tensor: ${gbps("tensorByTensor", torch)} GB/s from the .ckpt, ${gbps("tensorByTensor", safe)} GB/s from safetensors`,
  );
  const started = performance.now();
  const report = await convertCheckpoint(ckptPath, join(folder, "converted.safetensors"));
  console.log(
    `convertCheckpoint: ${report.tensorCount} tensors, ${(report.byteLength / 1e6).toFixed(0)} MB in ${(performance.now() - started).toFixed(0)} ms`,
  );
} finally {
  if (!keep) rmSync(folder, { recursive: true, force: true });
}
