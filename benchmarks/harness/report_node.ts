// Node-only output of a benchmark run: machine facts and the results files.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { ratioChartSvg } from "./chart_svg.ts";
import type { ResultRecord } from "./results.ts";

/** One line naming the machine, the adapters of both sides and the load when it was measured. */
export function machineLine(ourAdapter: string, peerAdapter: string | null): string {
  const cores = cpus();
  const [one, five] = loadavg();
  const peer = peerAdapter === null ? "peer: not started" : peerAdapter === ourAdapter ? "peer: same adapter" : `peer: ${peerAdapter}`;
  return `${cores.length} × ${cores[0]?.model.trim() ?? "CPU"}; adapter ${ourAdapter} (${peer}); load average ${one.toFixed(1)} (1 min), ${five.toFixed(1)} (5 min)`;
}

/** CPU milliseconds this process has used (all its threads: on a CPU adapter, the driver's too). */
export function processCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** The current 1-minute load average, for per-case notes. */
export function currentLoad(): number {
  return loadavg()[0];
}

/**
 * Writes `latest.json` (the records) and `latest.svg` (the ratio chart) into `folder`.
 *
 * @example
 * ```ts
 * writeResults("benchmarks/results", records, machineLine(adapter, peerAdapter));
 * ```
 */
export function writeResults(folder: string, records: readonly ResultRecord[], machine: string): { json: string; svg: string } {
  mkdirSync(folder, { recursive: true });
  const json = join(folder, "latest.json");
  const svg = join(folder, "latest.svg");
  writeFileSync(json, JSON.stringify(records, null, 2) + "\n");
  writeFileSync(svg, ratioChartSvg(records, machine));
  return { json, svg };
}
