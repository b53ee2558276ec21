// The demo's preamble: which WebGPU adapter this machine has, and two checked computations on it
// (an elementwise chain over a million values and a 512³ matmul, both compared with plain JS).
import { add, type Device, gelu, matmul, mul, tensor } from "@spo/wgpu-tensor";

function erf(v: number): number {
  let term = v;
  let sum = v;
  for (let k = 1; k < 60; k++) {
    term *= (-v * v) / k;
    sum += term / (2 * k + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

async function checkElementwise(log: (line: string) => void): Promise<boolean> {
  const count = 1 << 20;
  const values = Float32Array.from({ length: count }, (_, i) => Math.sin(i) * 3);
  const started = performance.now();
  const result = await gelu(add(mul(tensor(values), 0.5), 1)).toArray();
  let worst = 0;
  for (let i = 0; i < count; i++) {
    const v = Math.fround(values[i] * 0.5) + 1;
    worst = Math.max(worst, Math.abs(result[i] - 0.5 * v * (1 + erf(v / Math.SQRT2))));
  }
  const isCorrect = worst < 1e-5;
  log(
    `gelu(0.5·x + 1) over ${count} values: ${(performance.now() - started).toFixed(0)} ms, max |error| ${worst.toExponential(2)} → ${isCorrect ? "verified" : "WRONG"}`,
  );
  return isCorrect;
}

async function checkMatmul(log: (line: string) => void): Promise<boolean> {
  const n = 512;
  const a = Float32Array.from({ length: n * n }, (_, i) => Math.cos(i * 0.37));
  const b = Float32Array.from({ length: n * n }, (_, i) => Math.sin(i * 0.11));
  const at = tensor(a, [n, n]);
  const bt = tensor(b, [n, n]);
  await matmul(at, bt).toArray(); // warm-up (compiles the kernel)
  const started = performance.now();
  const c = await matmul(at, bt).toArray();
  const ms = performance.now() - started;
  let worst = 0;
  for (let s = 0; s < 64; s++) {
    const i = (s * 131) % n;
    const j = (s * 197) % n;
    let dot = 0;
    for (let k = 0; k < n; k++) dot += a[i * n + k] * b[k * n + j];
    worst = Math.max(worst, Math.abs(c[i * n + j] - dot) / (1 + Math.abs(dot)));
  }
  const isCorrect = worst < 1e-4;
  log(
    `matmul 512³: ${ms.toFixed(0)} ms (${((2 * n ** 3) / ms / 1e6).toFixed(2)} GFLOP/s incl. readback), max rel. error ${worst.toExponential(2)} → ${isCorrect ? "verified" : "WRONG"}`,
  );
  return isCorrect;
}

/** Prints the adapter and runs both checks; true when both answers are right. */
export async function checkAdapter(device: Device, log: (line: string) => void): Promise<boolean> {
  const kind = device.adapter.isCpu ? "software" : "hardware";
  log(`WebGPU adapter: ${device.adapter.description} (${device.adapter.vendor}, ${kind})`);
  log(`features: ${[...device.features].sort().join(", ")}`);
  const isElementwiseCorrect = await checkElementwise(log);
  const isMatmulCorrect = await checkMatmul(log);
  return isElementwiseCorrect && isMatmulCorrect;
}
