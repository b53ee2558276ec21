// Host cost of recording tiny ops: chains of `neg` on [1024], timed from the first op recorded to
// the last (before waiting for the GPU), in µs per op. Run under the profiler to see where it goes:
//
//   node --conditions=@spo/source --import tsx benchmarks/probes/dispatch_host_node.ts [chains] [ops]
//   node --cpu-prof --cpu-prof-dir=/tmp/prof --conditions=@spo/source --import tsx benchmarks/probes/dispatch_host_node.ts
import { Device, neg, tensor, type Tensor } from "@spo/wgpu-tensor";

const chains = Number(process.argv[2] ?? 60);
const opsPerChain = Number(process.argv[3] ?? 1000);
const device = await Device.create();
const x = tensor(
  new Float32Array(1024).map((_, i) => i),
  [1024],
);

function chain(): Tensor {
  let y = x;
  for (let i = 0; i < opsPerChain; i++) {
    const next = neg(y);
    if (y !== x) y.dispose();
    y = next;
  }
  return y;
}

const hostMicros: number[] = [];
for (let c = 0; c < chains; c++) {
  const started = performance.now();
  const y = chain();
  hostMicros.push(((performance.now() - started) * 1000) / opsPerChain);
  await device.sync();
  y.dispose();
}
hostMicros.sort((a, b) => a - b);
// the machine is shared: low percentiles are the chains that ran undisturbed
const at = (q: number) => hostMicros[Math.floor(q * (hostMicros.length - 1))].toFixed(1);
console.log(`recording ${opsPerChain} × neg [1024]: min ${at(0)}, p10 ${at(0.1)}, median ${at(0.5)} µs/op over ${chains} chains`);
x.dispose();
device.destroy();
