// The benchmark suite: `npm run bench -- [filter …] [--full] [--profile] [--budget=ms] [--list] [--peer=tfjs|ort]`.
// Each case is checked against the peer (tfjs-backend-webgpu on the same Dawn adapter, or with
// `--peer=ort` onnxruntime-web's WebGPU EP on a few cases), then timed on both sides; the table
// goes to stdout, results to benchmarks/results/latest.{json,svg}.
import { Device } from "@spo/wgpu-tensor";
import { fileURLToPath } from "node:url";
import { allCases } from "./cases/all_cases.ts";
import { ortCases } from "./cases/ort_cases.ts";
import type { BenchContext } from "./harness/bench_case.ts";
import { PassTimer } from "./harness/gpu_timer.ts";
import { type CaseResult, measureCase } from "./harness/measure.ts";
import { loadOptionalOps } from "./harness/optional_ops.ts";
import { startOrtPeer } from "./harness/ort_peer_node.ts";
import { formatProfile } from "./harness/profile.ts";
import { currentLoad, machineLine, processCpuMs, writeResults } from "./harness/report_node.ts";
import { toRecord } from "./harness/results.ts";
import { formatTable } from "./harness/table.ts";
import { startTfjsPeer } from "./harness/tfjs_peer_node.ts";

// Dawn rounds timestamps to 65.5 µs by default; the harness wants nanoseconds.
const DAWN_OPTIONS = ["disable-dawn-features=timestamp_quantization"];

const args = process.argv.slice(2);
const filters = args.filter((a) => !a.startsWith("--")).map((a) => a.toLowerCase());
const budgetArg = args.find((a) => a.startsWith("--budget="));
const budgetMs = budgetArg ? Number(budgetArg.slice("--budget=".length)) : 3000;
const isFull = args.includes("--full");
// one dispatch per compute pass on both sides, so per-pass timestamps give a per-kernel profile
const isProfile = args.includes("--profile");
const peerArg = args.find((a) => a.startsWith("--peer="))?.slice("--peer=".length) ?? "tfjs";
if (peerArg !== "tfjs" && peerArg !== "ort") {
  console.error(`Cannot pick peer "${peerArg}": expected --peer=tfjs (default) or --peer=ort`);
  process.exit(1);
}
const isOrt = peerArg === "ort";
const cases = isOrt ? ortCases : allCases;
const selected = cases
  .filter((c) => isFull || !c.isHeavy)
  .filter((c) => filters.length === 0 || filters.some((f) => `${c.group} ${c.name}`.toLowerCase().includes(f)));

if (args.includes("--list")) {
  for (const c of cases) console.log(`${c.group.padEnd(12)} ${c.name}${c.isHeavy ? "  (--full only)" : ""}`);
  process.exit(0);
}
if (selected.length === 0) {
  const onlyHeavy = cases.some((c) => c.isHeavy && filters.some((f) => `${c.group} ${c.name}`.toLowerCase().includes(f)));
  console.error(
    onlyHeavy
      ? `Only heavy cases match ${filters.join(", ")}: add --full to run them`
      : `No case matches ${filters.join(", ")}; \`npm run bench -- --list\` lists them`,
  );
  process.exit(1);
}

await loadOptionalOps();
const device = await Device.create({ dawnOptions: DAWN_OPTIONS, submitEvery: isProfile ? 1 : undefined });
Device.setDefault(device);
PassTimer.for(device.gpu);
let peer: BenchContext["peer"] = null;
let ort: BenchContext["ort"] = null;
try {
  if (isOrt) {
    ort = await startOrtPeer(DAWN_OPTIONS);
    PassTimer.for(ort.gpu);
  } else {
    peer = await startTfjsPeer(DAWN_OPTIONS);
    PassTimer.for(peer.gpu);
    if (isProfile) peer.tf.env().set("WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE", 1);
  }
} catch (error) {
  console.error(`The peer did not start, timing ours only: ${(error as Error).message}`);
}
const started = peer ?? ort;
const context: BenchContext = { device, peer, ort };
console.log(machineLine(device.adapter.description, started?.adapterDescription ?? null));
console.log(
  `timestamp-query: ours ${device.features.has("timestamp-query")}, peer ${started?.gpu.features.has("timestamp-query") ?? false}`,
);

const results: CaseResult[] = [];
for (const benchCase of selected) {
  const load = currentLoad();
  const started = performance.now();
  const result = await measureCase(benchCase, context, { budgetMs, profile: isProfile, cpuClock: processCpuMs });
  results.push(result);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const ours = result.ours ? `ours ${result.ours.summary.median.toFixed(2)} ms` : "";
  const theirs = result.peer ? `, peer ${result.peer.summary.median.toFixed(2)} ms` : "";
  const status = result.status === "ok" ? `${ours}${theirs}` : `${result.status}: ${result.detail.split("\n")[0]}`;
  console.log(`  ${benchCase.name}: ${status} (${seconds} s, load ${load.toFixed(1)})`);
  for (const { label, kernels } of result.profiles ?? []) console.log(formatProfile(label, kernels));
}

const records = results.map(toRecord);
const machine = machineLine(device.adapter.description, started?.adapterDescription ?? null);
console.log(`\n${machine}\n`);
console.log(formatTable(records));
const written = writeResults(fileURLToPath(new URL("results/", import.meta.url)), records, machine);
console.log(`\nwrote ${written.json} and ${written.svg}`);
device.destroy();
process.exitCode = results.some((r) => r.status === "failed") ? 1 : 0;
