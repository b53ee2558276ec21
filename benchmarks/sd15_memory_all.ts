// Issue 18's memory matrix in one command: SD1.5 512×512 generation and one SPO update, f32 and f16,
// SPO with and without gradient checkpointing; each configuration runs `sd15_memory.ts` in its own
// process, one after another, and the table of peaks, wall times and resident sets is printed at
// the end (and written to `<out>/summary.md`).
//   node --conditions=@spo/source --import tsx benchmarks/sd15_memory_all.ts [--out=sd15_memory_runs] [--jobs=a,b]
//        [sd15_memory.ts flags]
// `--jobs=generate_f16,train_f16_checkpointing` runs (or reports) only those jobs.
// Each child's output is kept in `<out>/<job>.txt`; a job whose log is complete is not run again, so
// a matrix stopped midway resumes. Generation runs 1 CFG step unless `--steps=` is given: the peak
// does not grow with steps, and the table extrapolates the 20-step wall time from the step's time.
// Full size on a CPU adapter takes hours (a UNet CFG step ≈ 6 min on 2 lavapipe cores); flags such
// as `--width=32 --latent=32 --text-layers=2` pass through for a quick run at reduced width.
import { spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { formatMemoryTable, jobArgs, jobName, MEMORY_JOBS, type MemoryResult, parseMemoryLog } from "./harness/memory_runs.ts";

const args = process.argv.slice(2);
const fail = (message: string): never => {
  process.stderr.write(`sd15_memory_all: ${message}\n`);
  process.exit(2);
};
const flag = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const out = flag("out") ?? "sd15_memory_runs";
const only = flag("jobs")?.split(",");
const passThrough = args.filter((a) => !a.startsWith("--out=") && !a.startsWith("--jobs="));
for (const owned of ["--part=", "--dtype=", "--checkpointing"]) {
  if (passThrough.some((a) => a.startsWith(owned))) fail(`${owned} is set per job by the matrix; run sd15_memory.ts for one job`);
}
const stepArgs = passThrough.some((a) => a.startsWith("--steps=")) ? [] : ["--steps=1"];
const unknown = only?.filter((name) => !MEMORY_JOBS.some((job) => jobName(job) === name)) ?? [];
if (unknown.length > 0) fail(`unknown job ${unknown.join(", ")}; jobs: ${MEMORY_JOBS.map(jobName).join(", ")}`);
const script = fileURLToPath(new URL("./sd15_memory.ts", import.meta.url));
mkdirSync(out, { recursive: true });

/** Runs one job with its output both on our stdout and in its log; resolves to the exit code. */
function runJob(logPath: string, jobFlags: string[]): Promise<number> {
  const log = createWriteStream(logPath);
  const child = spawn(process.execPath, [...process.execArgv, script, ...jobFlags], { stdio: ["ignore", "pipe", "pipe"] });
  for (const stream of [child.stdout, child.stderr]) {
    stream.on("data", (chunk: Buffer) => {
      log.write(chunk);
      process.stdout.write(chunk);
    });
  }
  return new Promise((resolve) => child.on("close", (code) => log.end(() => resolve(code ?? 1))));
}

const rows: { job: (typeof MEMORY_JOBS)[number]; result: MemoryResult | null; note?: string }[] = [];
for (const job of MEMORY_JOBS.filter((j) => only === undefined || only.includes(jobName(j)))) {
  const logPath = join(out, `${jobName(job)}.txt`);
  const previous = existsSync(logPath) ? parseMemoryLog(readFileSync(logPath, "utf8")) : null;
  if (previous !== null) {
    console.log(`${jobName(job)}: already measured (${logPath}), kept`);
    rows.push({ job, result: previous });
    continue;
  }
  const flags = [...jobArgs(job), ...(job.part === "generate" ? stepArgs : []), ...passThrough];
  console.log(`\n${jobName(job)}: sd15_memory.ts ${flags.join(" ")}`);
  const code = await runJob(logPath, flags);
  const result = parseMemoryLog(readFileSync(logPath, "utf8"));
  rows.push({ job, result, note: result === null ? `failed (exit ${code}), see ${logPath}` : undefined });
}
const table = formatMemoryTable(rows);
writeFileSync(join(out, "summary.md"), `${table}\n\nflags: ${[...stepArgs, ...passThrough].join(" ") || "(full size)"}\n`);
console.log(`\n${table}`);
process.exitCode = rows.every((r) => r.result !== null) ? 0 : 1;
