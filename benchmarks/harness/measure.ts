import type { BenchCase, BenchContext, CaseRun, CheckReport, Side } from "./bench_case.ts";
import { compareValues } from "./compare.ts";
import { PassTimer } from "./gpu_timer.ts";
import { type KernelTime, profileSide } from "./profile.ts";
import { type Summary, summarize } from "./stats.ts";

/** A side whose check run took longer than this needs no separate warm-up run. */
const SLOW_RUN_MS = 1000;

/** How a number was taken: summed GPU timestamps of the passes, or wall-clock to completion. */
export type TimingMethod = "gpu-timestamp" | "wall";

/** Timings of one side of a case. */
export interface SideTiming {
  label: string;
  /** Which of `gpu` and `wall` the table reports. */
  method: TimingMethod;
  /** The reported summary (`gpu` or `wall`). */
  summary: Summary;
  wall: Summary;
  gpu: Summary | null;
  /** Host milliseconds inside `run()`: recording (and any submits it makes), without waiting for the GPU. */
  record: Summary;
  /**
   * CPU milliseconds the whole process used per run (with `MeasureOptions.cpuClock`): on a CPU
   * adapter that includes the driver's worker threads, so it is the work's cost whatever else
   * shares the machine.
   */
  cpu: Summary | null;
}

export interface CaseResult {
  name: string;
  group: string;
  status: "ok" | "failed" | "skipped";
  /** Why it was skipped or failed; the check detail when it ran. */
  detail: string;
  ours: SideTiming | null;
  peer: SideTiming | null;
  /** Why the peer has no timing, when it has none. */
  peerNote: string | null;
  flops: number | null;
  bytes: number | null;
  opsPerRun: number | null;
  /** With `MeasureOptions.profile`: GPU time per kernel of one extra run, ours then the peer's. */
  profiles?: { label: string; kernels: KernelTime[] }[];
}

export interface MeasureOptions {
  /** Milliseconds of timed runs to aim for per case (both sides together). Default: 4000. */
  budgetMs?: number;
  /** Default: 3. */
  minReps?: number;
  /** Default: 10. */
  maxReps?: number;
  /** Untimed runs per side after the check run (which already compiled the kernels). Default: 1. */
  warmups?: number;
  /** After timing, profile one more run of each side by kernel. Default: false. */
  profile?: boolean;
  /** Milliseconds of CPU time used by this process so far (Node: `process.cpuUsage()`), if known. */
  cpuClock?: () => number;
}

/**
 * Runs one case: checks our answer against the peer's (or the case's own check), warms both sides
 * up, then times them alternately, `minReps` to `maxReps` times as the budget allows. A failed
 * check or a thrown error fails the case without timing it; nothing is thrown.
 */
export async function measureCase(benchCase: BenchCase, context: BenchContext, options: MeasureOptions = {}): Promise<CaseResult> {
  const { budgetMs = 4000, minReps = 3, warmups = 1 } = options;
  const maxReps = benchCase.maxReps ?? options.maxReps ?? 10;
  const base: CaseResult = {
    name: benchCase.name,
    group: benchCase.group,
    status: "ok",
    detail: "",
    ours: null,
    peer: null,
    peerNote: context.peer || context.ort ? (benchCase.peerUnavailable?.(context) ?? null) : "the peer did not start",
    flops: benchCase.flops ?? null,
    bytes: benchCase.bytes ?? null,
    opsPerRun: benchCase.opsPerRun ?? null,
  };
  const skip = benchCase.skipReason?.(context) ?? null;
  if (skip) return { ...base, status: "skipped", detail: skip };
  let run: CaseRun | null = null;
  try {
    run = await benchCase.setup(context);
    const { report, firstRunMs } = await (run.check ? customCheck(run.check) : defaultCheck(benchCase, run));
    if (!report.ok) return { ...base, status: "failed", detail: `check failed: ${report.detail}` };
    const sides = run.peer ? [run.ours, run.peer] : [run.ours];
    let estimate = 0;
    for (const [index, side] of sides.entries()) {
      const first = firstRunMs?.[index];
      // a slow side's check run (kernels compiled, buffers allocated) was warm-up enough
      if (first !== undefined && first > SLOW_RUN_MS) {
        estimate += first;
        continue;
      }
      for (let i = 0; i < warmups; i++) estimate += (await timeOnce(side, null)).wall / warmups;
    }
    const reps = Math.max(minReps, Math.min(maxReps, Math.round(budgetMs / Math.max(estimate, 1e-3))));
    const samples = sides.map(() => ({ wall: [] as number[], gpu: [] as number[], record: [] as number[], cpu: [] as number[] }));
    for (let rep = 0; rep < reps; rep++) {
      // alternate the order so a drift in machine load does not favour one side
      const order = rep % 2 === 0 ? sides.map((_, i) => i) : sides.map((_, i) => sides.length - 1 - i);
      for (const index of order) {
        const side = sides[index];
        const { wall, gpu, record, cpu } = await timeOnce(side, PassTimer.for(side.gpu), options.cpuClock);
        samples[index].wall.push(wall);
        samples[index].record.push(record);
        if (cpu !== null) samples[index].cpu.push(cpu);
        if (gpu !== null) samples[index].gpu.push(gpu);
      }
    }
    const timings = sides.map((side, i) => sideTiming(side.label, samples[i], benchCase.timing ?? "gpu", reps));
    const profiles: CaseResult["profiles"] = [];
    for (const side of options.profile ? sides : []) {
      const kernels = await profileSide(side);
      if (kernels) profiles.push({ label: side.label, kernels });
    }
    return { ...base, detail: report.detail, ours: timings[0], peer: timings[1] ?? null, profiles };
  } catch (error) {
    return { ...base, status: "failed", detail: `threw: ${(error as Error).stack ?? error}` };
  } finally {
    run?.dispose();
  }
}

interface Checked {
  report: CheckReport;
  /** Wall milliseconds of each side's check run (compilation included), when the harness ran them. */
  firstRunMs: number[] | null;
}

/** A case's own check; its wall time (one run of ours, a readback, a host reference) bounds our first run. */
async function customCheck(check: () => Promise<CheckReport>): Promise<Checked> {
  const start = performance.now();
  const report = await check();
  return { report, firstRunMs: [performance.now() - start] };
}

/** Runs each side once (timing it), reads both answers and compares them. */
async function defaultCheck(benchCase: BenchCase, run: CaseRun): Promise<Checked> {
  if (!run.peer) {
    const first = await timeOnceKeeping(run.ours);
    run.ours.release(first.result);
    return { report: { ok: true, detail: "NOT CHECKED: no peer ran and the case has no check of its own" }, firstRunMs: [first.wall] };
  }
  const first = [await timeOnceKeeping(run.ours), await timeOnceKeeping(run.peer)];
  try {
    const [a, b] = await Promise.all([run.ours.read(first[0].result), run.peer.read(first[1].result)]);
    return { report: compareValues(a, b, benchCase.tolerance ?? { atol: 1e-4, rtol: 1e-3 }), firstRunMs: first.map((f) => f.wall) };
  } finally {
    run.ours.release(first[0].result);
    run.peer.release(first[1].result);
  }
}

async function timeOnceKeeping(side: Side): Promise<{ result: unknown; wall: number }> {
  await side.sync();
  const start = performance.now();
  const result = side.run();
  await side.sync();
  return { result, wall: performance.now() - start };
}

interface Sample {
  wall: number;
  gpu: number | null;
  record: number;
  cpu: number | null;
}

async function timeOnce(side: Side, timer: PassTimer | null, cpuClock?: () => number): Promise<Sample> {
  await side.sync();
  timer?.begin();
  const cpuStart = cpuClock?.() ?? 0;
  const start = performance.now();
  const result = side.run();
  const record = performance.now() - start;
  await side.sync();
  const wall = performance.now() - start;
  const cpu = cpuClock ? cpuClock() - cpuStart : null;
  const gpu = timer ? await timer.end() : null;
  side.release(result);
  return { wall, gpu, record, cpu };
}

function sideTiming(
  label: string,
  samples: { wall: number[]; gpu: number[]; record: number[]; cpu: number[] },
  preferred: "gpu" | "wall",
  reps: number,
): SideTiming {
  const wall = summarize(samples.wall);
  const gpu = samples.gpu.length === reps ? summarize(samples.gpu) : null;
  const useGpu = preferred === "gpu" && gpu !== null;
  const cpu = samples.cpu.length === reps ? summarize(samples.cpu) : null;
  return {
    label,
    method: useGpu ? "gpu-timestamp" : "wall",
    summary: useGpu ? gpu : wall,
    wall,
    gpu,
    record: summarize(samples.record),
    cpu,
  };
}
