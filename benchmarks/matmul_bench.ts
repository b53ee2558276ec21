// Throughput of the matmul and conv2d kernels: GFLOP/s counting 2·m·n·k flops per product (two
// per multiply-add), from the best wall-clock time over timed runs after a warm-up that compiles
// the kernels. Also printed: the process CPU time of that run, because on a shared 2-core
// machine the wall clock mostly measures the neighbours.
//
//   node --conditions=source --import tsx benchmarks/matmul_bench.ts           # every case
//   node --conditions=source --import tsx benchmarks/matmul_bench.ts --quick   # the SD shapes only
import { loadavg } from "node:os";
import { Device } from "../packages/wgpu-tensor/device/device.ts";
import { tensor } from "../packages/wgpu-tensor/ops/creation/creation.ts";
import { conv2d } from "../packages/wgpu-tensor/ops/conv2d/conv2d.ts";
import { matmul } from "../packages/wgpu-tensor/ops/matmul/matmul.ts";
import type { Tensor } from "../packages/wgpu-tensor/tensor/tensor.ts";
import { seededValues } from "../packages/wgpu-tensor/testing/arbitraries.ts";

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

async function timeCase(device: Device, spec: Case, runs: number): Promise<string> {
  const inputs = spec.inputs();
  spec.run(inputs).dispose(); // compile
  await device.sync();
  let best = { seconds: Infinity, cpuSeconds: Infinity };
  for (let run = 0; run < runs; run++) {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    const output = spec.run(inputs);
    await device.sync();
    const cpu = process.cpuUsage(cpuStart);
    const seconds = (performance.now() - start) / 1000;
    if (seconds < best.seconds) best = { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
    output.dispose();
  }
  inputs.forEach((t) => t.dispose());
  const gflops = spec.flops / 1e9;
  const wall = (gflops / best.seconds).toFixed(1);
  return `${spec.name.padEnd(44)} ${(best.seconds * 1000).toFixed(1).padStart(8)} ms  ${wall.padStart(6)} GFLOP/s  (CPU ${(best.cpuSeconds * 1000).toFixed(0)} ms)`;
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
console.log(`${device.adapter.description}; load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}`);
for (const spec of cases) console.log(await timeCase(device, spec, isQuick ? 3 : 5));
device.destroy();
