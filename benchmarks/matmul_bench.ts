// Throughput of the matmul and conv2d kernels: GFLOP/s counting 2·m·n·k flops per product (two
// per multiply-add), from the best wall-clock time over timed runs after a warm-up that compiles
// the kernels. On a shared 2-core machine the wall clock mostly measures the neighbours, so on
// Linux it also prints the CPU time lavapipe's worker threads spent per run (from /proc) and the
// throughput that is on two otherwise idle cores ("2-core").
//
//   node --conditions=@spo/source --import tsx benchmarks/matmul_bench.ts           # every case
//   node --conditions=@spo/source --import tsx benchmarks/matmul_bench.ts --quick   # the SD shapes only
import { readdirSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { Device } from "@spo/wgpu-tensor";
import { tensor } from "@spo/wgpu-tensor";
import { conv2d } from "@spo/wgpu-tensor";
import { matmul } from "@spo/wgpu-tensor";
import type { Tensor } from "@spo/wgpu-tensor";
import { seededValues } from "@spo/wgpu-tensor/testing";

interface Case {
  name: string;
  flops: number;
  inputs: () => Tensor[];
  run: (inputs: Tensor[]) => Tensor;
}

function random(shape: number[], seed: number): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tensor(Float32Array.from(seededValues(seed, size)), shape);
}

function matmulCase(m: number, n: number, k: number, transposeB: boolean): Case {
  return {
    name: `matmul ${m}×${k} · ${transposeB ? `(${n}×${k})ᵀ` : `${k}×${n}`}`,
    flops: 2 * m * n * k,
    inputs: () => [random([m, k], 1), random(transposeB ? [n, k] : [k, n], 2)],
    run: ([a, b]) => matmul(a, b, { transposeB }),
  };
}

function convCase(batch: number, channels: number, outChannels: number, size: number, kernel: number): Case {
  return {
    name: `conv2d ${kernel}×${kernel} ${batch}×${channels}×${size}×${size} → ${outChannels}`,
    flops: 2 * batch * outChannels * size * size * channels * kernel * kernel,
    inputs: () => [random([batch, channels, size, size], 1), random([outChannels, channels, kernel, kernel], 2), random([outChannels], 3)],
    run: ([x, w, bias]) => conv2d(x, w, bias, { padding: (kernel - 1) / 2 }),
  };
}

/** CPU seconds of every thread but the main one (lavapipe's workers), or NaN off Linux. */
function workerCpuSeconds(): number {
  try {
    let ticks = 0;
    for (const task of readdirSync("/proc/self/task")) {
      if (Number(task) === process.pid) continue;
      const stat = readFileSync(`/proc/self/task/${task}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]); // utime + stime
    }
    return ticks / 100;
  } catch {
    return NaN;
  }
}

async function timeCase(device: Device, spec: Case, minRuns: number): Promise<string> {
  const inputs = spec.inputs();
  spec.run(inputs).dispose(); // compile
  await device.sync();
  let best = Infinity;
  let runs = 0;
  const cpuStart = workerCpuSeconds();
  const start = performance.now();
  while (runs < minRuns || performance.now() - start < 1500) {
    const runStart = performance.now();
    const output = spec.run(inputs);
    await device.sync();
    best = Math.min(best, (performance.now() - runStart) / 1000);
    output.dispose();
    runs++;
  }
  const cpuPerRun = (workerCpuSeconds() - cpuStart) / runs;
  inputs.forEach((t) => t.dispose());
  const gflops = spec.flops / 1e9;
  const wall = (gflops / best).toFixed(1);
  const twoCore = Number.isNaN(cpuPerRun)
    ? ""
    : `  ${((2 * gflops) / cpuPerRun).toFixed(1).padStart(6)} GFLOP/s 2-core (${(cpuPerRun * 1000).toFixed(0)} ms CPU)`;
  return `${spec.name.padEnd(44)} ${(best * 1000).toFixed(1).padStart(8)} ms  ${wall.padStart(6)} GFLOP/s${twoCore}`;
}

const isQuick = process.argv.includes("--quick");
const cases: Case[] = [
  matmulCase(4096, 320, 320, true),
  matmulCase(4096, 320, 320, false),
  ...(isQuick ? [] : [matmulCase(1024, 1024, 1024, false), matmulCase(1024, 1024, 1024, true), matmulCase(4096, 77, 40, true)]),
  convCase(1, 320, 320, isQuick ? 32 : 64, 3),
  ...(isQuick ? [] : [convCase(1, 320, 320, 64, 1)]),
];

const device = await Device.create();
console.log(
  `${device.adapter.description}; load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")}`,
);
for (const spec of cases) console.log(await timeCase(device, spec, isQuick ? 3 : 5));
device.destroy();
