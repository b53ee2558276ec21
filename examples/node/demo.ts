// The project's main job, runnable on any machine: `npm run demo`.
// Finds a WebGPU adapter, prints it, runs real work on it and checks the answers against plain JS.
import { add, Device, gelu, mul, tensor } from "@spo/wgpu-tensor";

const device = await Device.create();
console.log(`WebGPU adapter: ${device.adapter.description} (${device.adapter.vendor}, ${device.adapter.isCpu ? "software" : "hardware"})`);
console.log(`features: ${[...device.features].sort().join(", ")}`);

// 1. An elementwise chain over a million values, checked element by element.
const count = 1 << 20;
const values = Float32Array.from({ length: count }, (_, i) => Math.sin(i) * 3);
const started = performance.now();
const x = tensor(values);
const y = gelu(add(mul(x, 0.5), 1));
const result = await y.toArray();
const elapsedMs = performance.now() - started;
let worst = 0;
for (let i = 0; i < count; i++) {
  const v = values[i] * 0.5 + 1;
  const expected = 0.5 * v * (1 + erf(v / Math.SQRT2));
  worst = Math.max(worst, Math.abs(result[i] - expected));
}
const isCorrect = worst < 1e-5;
console.log(`gelu(0.5·x + 1) over ${count} values: ${elapsedMs.toFixed(1)} ms, max |error| ${worst.toExponential(2)} → ${isCorrect ? "verified" : "WRONG"}`);

device.destroy();
if (!isCorrect) process.exit(1);

function erf(v: number): number {
  // Abramowitz–Stegun 7.1.26 is too coarse for a check; integrate the series instead
  let term = v;
  let sum = v;
  for (let n = 1; n < 60; n++) {
    term *= (-v * v) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}
