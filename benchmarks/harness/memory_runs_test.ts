import assert from "node:assert/strict";
import { test } from "node:test";
import { extrapolateGeneration, formatMemoryTable, jobName, MEMORY_JOBS, parseMemoryLog } from "./memory_runs.ts";

const GENERATE_LOG = `adapter: llvmpipe; load 2.3; part generate, f16, width 320, latents 64×64, 1 steps
  text encoder (build, encode 2 prompts, free): 17.4 s, peak 0.262 GiB (0.262 GiB above the 0.000 GiB live at its start), pool holds 0.1 GiB after
  UNet 1 CFG steps: 400.0 s, peak 2.086 GiB (0.277 GiB above the 1.809 GiB live at its start), pool holds 0.2 GiB after
  VAE (build, decode, free): 100.0 s, peak 2.266 GiB (0.457 GiB above the 1.809 GiB live at its start), pool holds 0.5 GiB after
generation: peak 2.266 GiB, 517.4 s wall
max resident set 4.88 GiB
cpu 1234 s
`;

test("a finished generation log gives its peak, wall time, resident set and UNet phase", () => {
  assert.deepEqual(parseMemoryLog(GENERATE_LOG), {
    latentSide: 64,
    peakGiB: 2.266,
    wallSeconds: 517.4,
    maxResidentGiB: 4.88,
    cpuSeconds: 1234,
    unet: { steps: 1, seconds: 400 },
  });
});

test("a log cut off before its summary line is not a result (the matrix runs that job again)", () => {
  const cut = GENERATE_LOG.slice(0, GENERATE_LOG.indexOf("generation: peak"));
  assert.equal(parseMemoryLog(cut), null);
  assert.equal(parseMemoryLog(""), null);
});

test("a training log without the resident-set line (older runs) still parses, with no UNet phase", () => {
  const log = "  SPO minibatch (…): 1983.0 s, peak 1.995 GiB (…)\nSPO update: peak 1.995 GiB, 1986.0 s wall\n";
  assert.deepEqual(parseMemoryLog(log), {
    latentSide: null,
    peakGiB: 1.995,
    wallSeconds: 1986,
    maxResidentGiB: null,
    cpuSeconds: null,
    unet: null,
  });
});

test("20 steps add 19 more UNet steps to a 1-step generation's wall time, and nothing to a training job", () => {
  const result = parseMemoryLog(GENERATE_LOG)!;
  assert.equal(extrapolateGeneration(result, 20), 517.4 + 19 * 400);
  assert.equal(extrapolateGeneration(result, 1), 517.4);
  assert.equal(extrapolateGeneration({ ...result, unet: null }, 20), null);
});

test("every job has its own log name, and the table has a row per job saying what is missing", () => {
  const names = MEMORY_JOBS.map(jobName);
  assert.equal(new Set(names).size, names.length);
  const result = parseMemoryLog(GENERATE_LOG)!;
  const table = formatMemoryTable([
    { job: MEMORY_JOBS[1]!, result },
    { job: MEMORY_JOBS[0]!, result: null, note: "failed (exit 1)" },
  ]).split("\n");
  assert.equal(table.length, 4);
  assert.match(
    table[2]!,
    /generation \| f16 \| — \| 64×64 \(512×512 px\) \| 2\.266 GiB \| 517 s \| 1234 s \| 8117 s \(est\.\) \| 4\.88 GiB/,
  );
  assert.match(table[3]!, /SPO update \| f16 \| on \| \| failed \(exit 1\)/);
});
