// Quick throughput of the fused attention kernels, ours only (the peer comparison is the suite's
// `npm run bench -- attention`). GFLOP/s counts 4·B·H·Lq·Lk·D flops per forward (Q·Kᵀ and P·V, a
// multiply-add counting 2); backward counts what its kernels execute: Q·Kᵀ again for the
// statistics, three products in dQ and in dK, two in dV (9 of the forward's 2 units). Each case is
// the best of a few runs after a warm-up run that compiles the kernels.
//
// On a shared machine wall-clock numbers drop with the load, so where /proc exists the script also
// reports GFLOP per CPU-second of the driver's worker threads (what the kernels got from the cores
// they ran on) and the CPU time of the main thread, which dawn.node keeps busy while it waits.
//
//   node --conditions=@spo/source --import tsx benchmarks/attention_bench.ts           # every case
//   node --conditions=@spo/source --import tsx benchmarks/attention_bench.ts --quick   # L = 1024 only
import { readdirSync, readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { Device } from "@spo/wgpu-tensor";
import { scaledDotProductAttention } from "@spo/wgpu-tensor";
import { attentionBackward } from "../packages/wgpu-tensor/ops/attention/attention_backward.ts";
import { tensor } from "@spo/wgpu-tensor";
import type { Tensor } from "@spo/wgpu-tensor";
import { seededValues } from "@spo/wgpu-tensor/testing";

interface BenchCase {
  heads: number;
  length: number;
  headSize: number;
  isBackward?: boolean;
  isCausal?: boolean;
}

const CASES: BenchCase[] = [
  { heads: 8, length: 1024, headSize: 40 },
  { heads: 8, length: 1024, headSize: 80 },
  { heads: 8, length: 1024, headSize: 64, isCausal: true },
  { heads: 8, length: 1024, headSize: 40, isBackward: true },
  { heads: 8, length: 4096, headSize: 40 },
];

/** CPU seconds of this process's threads, split into the main thread and the others (Linux only). */
function threadSeconds(): { main: number; workers: number } | null {
  try {
    let main = 0;
    let workers = 0;
    for (const thread of readdirSync("/proc/self/task")) {
      const stat = readFileSync(`/proc/self/task/${thread}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const seconds = (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks
      if (Number(thread) === process.pid) main += seconds;
      else workers += seconds;
    }
    return { main, workers };
  } catch {
    return null;
  }
}

interface Timing {
  seconds: number;
  workerSeconds: number | null;
  mainSeconds: number | null;
}

async function bestOf(device: Device, runs: number, work: () => Tensor[]): Promise<Timing> {
  let best: Timing = { seconds: Infinity, workerSeconds: null, mainSeconds: null };
  for (let run = 0; run < runs; run++) {
    const threadsBefore = threadSeconds();
    const start = performance.now();
    const outputs = work();
    await device.sync();
    const seconds = (performance.now() - start) / 1000;
    const threadsAfter = threadSeconds();
    outputs.forEach((t) => t.dispose());
    if (seconds >= best.seconds) continue;
    const workerSeconds = threadsBefore && threadsAfter ? threadsAfter.workers - threadsBefore.workers : null;
    const mainSeconds = threadsBefore && threadsAfter ? threadsAfter.main - threadsBefore.main : null;
    best = { seconds, workerSeconds, mainSeconds };
  }
  return best;
}

async function benchCase(device: Device, spec: BenchCase): Promise<string> {
  const { heads, length, headSize } = spec;
  const isCausal = spec.isCausal ?? false;
  const shape = [1, heads, length, headSize];
  const [q, k, v, dy] = [1, 2, 3, 4].map((seed) => tensor(Float32Array.from(seededValues(seed, heads * length * headSize)), shape));
  const output = scaledDotProductAttention(q, k, v, { isCausal });
  const attrs = { scale: 1 / Math.sqrt(headSize), isCausal };
  const forward = () => [scaledDotProductAttention(q, k, v, { isCausal })];
  const gradients = () => attentionBackward({ inputs: [q, k, v], output, dy, attrs }).filter((t): t is Tensor => t !== null);
  const work = spec.isBackward ? gradients : forward;
  await bestOf(device, 1, work); // compiles
  const timing = await bestOf(device, length >= 4096 ? 1 : 3, work);
  [q, k, v, dy, output].forEach((t) => t.dispose());

  const units = spec.isBackward ? 9 : 2; // products of 2·L·L·D flops each
  const causalShare = isCausal ? 0.5 : 1; // about half the scores are hidden and skipped
  const flops = units * 2 * heads * length * length * headSize * causalShare;
  const label = `${spec.isBackward ? "backward" : "forward"} B·H=${heads} L=${length} D=${headSize}${isCausal ? " causal" : ""}`;
  const parts = [`${label}: ${(timing.seconds * 1000).toFixed(0)} ms`, `${(flops / timing.seconds / 1e9).toFixed(2)} GFLOP/s`];
  if (timing.workerSeconds !== null && timing.mainSeconds !== null) {
    parts.push(`${(flops / timing.workerSeconds / 1e9).toFixed(2)} GFLOP per worker CPU-second`);
    parts.push(`main thread ${timing.mainSeconds.toFixed(2)} CPU-s`);
  }
  return parts.join(", ");
}

const isQuick = process.argv.includes("--quick");
const device = await Device.create();
Device.setDefault(device);
console.log(`adapter: ${device.adapter.description}; load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores`);
for (const spec of CASES.filter((c) => !isQuick || c.length <= 1024)) {
  console.log(await benchCase(device, spec));
}
device.destroy();
