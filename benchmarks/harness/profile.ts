import type { Side } from "./bench_case.ts";
import { PassTimer } from "./gpu_timer.ts";

/** GPU time of one kernel (pipeline label) over a profiled run. */
export interface KernelTime {
  kernel: string;
  ms: number;
  dispatches: number;
}

/**
 * Runs a side once with its passes timed and groups the GPU time by pipeline label, largest first.
 * Meaningful when each pass holds one dispatch: `Device.create({ submitEvery: 1 })` for ours,
 * `WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE = 1` for tfjs (`npm run bench -- --profile` sets both).
 * Null without `timestamp-query`.
 */
export async function profileSide(side: Side): Promise<KernelTime[] | null> {
  const timer = PassTimer.for(side.gpu);
  if (!timer) return null;
  await side.sync();
  timer.begin();
  const result = side.run();
  await side.sync();
  const passes = await timer.endWithPasses();
  side.release(result);
  if (!passes) return null;
  const byKernel = new Map<string, KernelTime>();
  for (const pass of passes) {
    const kernel = pass.labels.length > 0 ? pass.labels.join(" + ") : "(no dispatch)";
    const entry = byKernel.get(kernel) ?? { kernel, ms: 0, dispatches: 0 };
    entry.ms += pass.ms;
    entry.dispatches += Math.max(pass.labels.length, 1);
    byKernel.set(kernel, entry);
  }
  return [...byKernel.values()].sort((a, b) => b.ms - a.ms);
}

/** A few lines: the kernels taking the most GPU time, with their share. */
export function formatProfile(label: string, kernels: readonly KernelTime[], top = 8): string {
  const total = kernels.reduce((sum, k) => sum + k.ms, 0);
  const lines = kernels
    .slice(0, top)
    .map((k) => `      ${k.ms.toFixed(1).padStart(9)} ms ${((100 * k.ms) / total).toFixed(0).padStart(3)}%  ×${k.dispatches}  ${k.kernel}`);
  const rest = kernels.length > top ? [`      … ${kernels.length - top} more kernels`] : [];
  return [`    ${label}: ${total.toFixed(1)} ms on the GPU`, ...lines, ...rest].join("\n");
}
