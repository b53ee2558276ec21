// The configurations `sd15_memory_all.ts` runs (one child process each, so peaks never mix), and
// what it reads back from each child's log: the job's peak, its wall time and the process's
// maximum resident set. Logs are the record: a configuration whose log already ends in a summary
// line is not run again, so an interrupted hour-long matrix resumes where it stopped.

export type MemoryJob = { part: "generate" | "train"; dtype: "f32" | "f16"; checkpointing: boolean };

/** Most informative first: f16 (the issue's targets) before f32, checkpointed training before not. */
export const MEMORY_JOBS: readonly MemoryJob[] = [
  { part: "train", dtype: "f16", checkpointing: true },
  { part: "generate", dtype: "f16", checkpointing: false },
  { part: "train", dtype: "f32", checkpointing: true },
  { part: "generate", dtype: "f32", checkpointing: false },
  { part: "train", dtype: "f16", checkpointing: false },
  { part: "train", dtype: "f32", checkpointing: false },
];

/** Generation's checkpointing flag is meaningless (no backward), so its name leaves it out. */
export function jobName(job: MemoryJob): string {
  return job.part === "generate"
    ? `generate_${job.dtype}`
    : `train_${job.dtype}_${job.checkpointing ? "checkpointing" : "no_checkpointing"}`;
}

export function jobArgs(job: MemoryJob): string[] {
  return [`--part=${job.part}`, `--dtype=${job.dtype}`, ...(job.checkpointing ? ["--checkpointing"] : [])];
}

export type MemoryResult = {
  /** Latent side from the log's header (64 for SD1.5's 512×512), `null` if the header is missing. */
  latentSide: number | null;
  peakGiB: number;
  wallSeconds: number;
  /** `null` when the log predates the line (older runs were measured with `/usr/bin/time -v`). */
  maxResidentGiB: number | null;
  /** Process CPU seconds (user + system), `null` in older logs: on a CPU adapter, the work whatever the load. */
  cpuSeconds: number | null;
  /** Generation only: the UNet phase's steps and seconds, to extrapolate other step counts. */
  unet: { steps: number; seconds: number } | null;
};

const SUMMARY = /^(?:generation|SPO update): peak ([\d.]+) GiB, ([\d.]+) s wall$/m;
const RESIDENT = /^max resident set ([\d.]+) GiB$/m;
const CPU = /^cpu (\d+) s$/m;
const HEADER_LATENTS = /latents (\d+)×\d+/;
const UNET_PHASE = /^\s*UNet (\d+) CFG steps: ([\d.]+) s,/m;

/** The result in a child's log, or `null` when the log has no summary line (the run did not finish). */
export function parseMemoryLog(log: string): MemoryResult | null {
  const summary = SUMMARY.exec(log);
  if (summary === null) return null;
  const resident = RESIDENT.exec(log);
  const unet = UNET_PHASE.exec(log);
  const side = HEADER_LATENTS.exec(log);
  const cpu = CPU.exec(log);
  return {
    latentSide: side === null ? null : Number(side[1]),
    peakGiB: Number(summary[1]),
    wallSeconds: Number(summary[2]),
    maxResidentGiB: resident === null ? null : Number(resident[1]),
    cpuSeconds: cpu === null ? null : Number(cpu[1]),
    unet: unet === null ? null : { steps: Number(unet[1]), seconds: Number(unet[2]) },
  };
}

/** Wall time of the same generation with `steps` UNet steps: the peak does not grow with steps, the time does. */
export function extrapolateGeneration(result: MemoryResult, steps: number): number | null {
  if (result.unet === null) return null;
  const perStep = result.unet.seconds / result.unet.steps;
  return result.wallSeconds + (steps - result.unet.steps) * perStep;
}

/** One Markdown row per job; jobs without a result say why. */
export function formatMemoryTable(rows: readonly { job: MemoryJob; result: MemoryResult | null; note?: string }[]): string {
  const lines = [
    "| job | dtype | checkpointing | latents | peak (live GPU bytes) | wall | CPU time | wall at 20 steps | max resident set |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const { job, result, note } of rows) {
    const head = `| ${job.part === "generate" ? "generation" : "SPO update"} | ${job.dtype} | ${job.part === "generate" ? "—" : job.checkpointing ? "on" : "off"} |`;
    if (result === null) {
      lines.push(`${head} | ${note ?? "not run"} | | | | |`);
      continue;
    }
    const side = result.latentSide;
    const size = side === null ? "?" : `${side}×${side}${job.part === "generate" ? ` (${8 * side}×${8 * side} px)` : ""}`;
    const at20 = job.part === "generate" ? extrapolateGeneration(result, 20) : null;
    lines.push(
      `${head} ${size} | ${result.peakGiB.toFixed(3)} GiB | ${result.wallSeconds.toFixed(0)} s | ${result.cpuSeconds === null ? "—" : `${result.cpuSeconds} s`} | ${at20 === null ? "—" : `${at20.toFixed(0)} s (est.)`} | ${result.maxResidentGiB === null ? "—" : `${result.maxResidentGiB.toFixed(2)} GiB`} |`,
    );
  }
  return lines.join("\n");
}
