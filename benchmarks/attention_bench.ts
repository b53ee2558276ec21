// Throughput of the fused attention kernels: GFLOP/s counting 4·B·H·Lq·Lk·D flops per forward
// (QKᵀ and PV, two flops per multiply-add), the minimum over a few timed runs after a warm-up run
// that compiles the kernels. Backward is timed as the whole gradient (statistics, dQ, dK, dV).
//
//   node --conditions=source --import tsx benchmarks/attention_bench.ts           # every case
//   node --conditions=source --import tsx benchmarks/attention_bench.ts --quick   # L = 1024 only
import { cpus, loadavg } from "node:os";
import { Device } from "../packages/wgpu-tensor/device/device.ts";
import { attentionBackward } from "../packages/wgpu-tensor/ops/attention/attention_backward.ts";
import { scaledDotProductAttention } from "../packages/wgpu-tensor/ops/attention/attention.ts";
import { tensor } from "../packages/wgpu-tensor/ops/creation/creation.ts";
import type { Tensor } from "../packages/wgpu-tensor/tensor/tensor.ts";
import { seededValues } from "../packages/wgpu-tensor/testing/arbitraries.ts";

interface BenchCase {
  heads: number;
  length: number;
  headSize: number;
  isBackward?: boolean;
  isCausal?: boolean;
}

const ALL_CASES: BenchCase[] = [
  { heads: 8, length: 1024, headSize: 40 },
  { heads: 8, length: 1024, headSize: 80 },
  ...(process.env.ATT_NOBWD ? [] : [{ heads: 8, length: 1024, headSize: 40, isBackward: true }]),
  { heads: 8, length: 4096, headSize: 40 },
];

/** Best wall-clock seconds, and the process CPU seconds of that run (lavapipe's threads included). */
async function timeRuns(device: Device, runs: number, work: () => Tensor[]): Promise<{ seconds: number; cpuSeconds: number }> {
  let best = { seconds: Infinity, cpuSeconds: Infinity };
  for (let run = 0; run < runs; run++) {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    const outputs = work();
    await device.sync();
    const cpu = process.cpuUsage(cpuStart);
    const seconds = (performance.now() - start) / 1000;
    if (seconds < best.seconds) best = { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
    outputs.forEach((t) => t.dispose());
  }
  return best;
}

async function benchCase(device: Device, spec: BenchCase): Promise<string> {
  const { heads, length, headSize } = spec;
  const shape = [1, heads, length, headSize];
  const size = heads * length * headSize;
  const [q, k, v, dy] = [1, 2, 3, 4].map((seed) => tensor(Float32Array.from(seededValues(seed, size)), shape));
  const isCausal = spec.isCausal ?? false;
  const forward = () => [scaledDotProductAttention(q, k, v, { isCausal })];
  const output = forward()[0];
  const attrs = { scale: 1 / Math.sqrt(headSize), isCausal };
  const gradients = () => attentionBackward({ inputs: [q, k, v], output, dy, attrs }).filter((t): t is Tensor => t !== null);
  const work = spec.isBackward ? gradients : forward;
  const runs = length >= 4096 ? 1 : 3;
  await timeRuns(device, 1, work); // compiles the kernels
  const { seconds, cpuSeconds } = await timeRuns(device, runs, work);
  // forward: QKᵀ + PV; backward: QKᵀ again for lse, then dQ (QKᵀ, dO·Vᵀ, dS·K), dK (same three), dV (QKᵀ, Pᵀ·dO)
  const units = spec.isBackward ? 1 + 3 + 3 + 2 : 2;
  const flops = 2 * units * heads * length * length * headSize;
  [q, k, v, dy, output].forEach((t) => t.dispose());
  const label = `${spec.isBackward ? "backward" : "forward"} B·H=${heads} L=${length} D=${headSize}${isCausal ? " causal" : ""}`;
  const usefulFlops = 4 * heads * length * length * headSize * (spec.isBackward ? 2.5 : 1);
  // per CPU-second: what the kernels get from the cores they ran on, whatever else shares the machine
  const perCpu = `${(flops / cpuSeconds / 1e9).toFixed(2)} GFLOP per CPU-second`;
  const counted = spec.isBackward ? ` (${(usefulFlops / seconds / 1e9).toFixed(2)} GFLOP/s counted as 2.5× forward)` : "";
  return `${label}: ${(seconds * 1000).toFixed(0)} ms, ${(flops / seconds / 1e9).toFixed(2)} GFLOP/s${counted}, ${perCpu}`;
}

const isQuick = process.argv.includes("--quick");
const device = await Device.create({ disableRobustness: process.env.ATT_NOROBUST === "1" });
Device.setDefault(device);
console.log(`adapter: ${device.adapter.description}; load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores`);
for (const spec of ALL_CASES.filter((c) => !isQuick || c.length <= 1024)) {
  console.log(await benchCase(device, spec));
}
device.destroy();
