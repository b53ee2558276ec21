import type { ResultRecord } from "./results.ts";

const COLUMNS = ["case", "ours ms", "peer ms", "ratio", "CPU ratio", "ours throughput", "timing", "peer"] as const;

/**
 * The results as a Markdown table (readable as plain text too): medians with min–max, the ratio
 * peer/ours (of the reported times, and of the process CPU time per run), our throughput, the
 * timing method, and which peer. Notes for skipped, failed and
 * peer-less cases follow the table.
 *
 * @example
 * ```ts
 * console.log(formatTable(records));
 * ```
 */
export function formatTable(records: readonly ResultRecord[]): string {
  const rows = records.map(row);
  const widths = COLUMNS.map((title, i) => Math.max(title.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i])).join(" | ")} |`;
  const out = [line(COLUMNS), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)];
  const notes = records.filter((r) => r.status !== "ok" || r.peer_ms === null);
  const recording = records.filter((r) => r.status === "ok" && r.us_per_op !== null && r.ours_record_ms !== null);
  if (notes.length + recording.length > 0) out.push("");
  for (const r of notes) out.push(`- ${r.name}: ${r.status === "ok" ? "" : `${r.status.toUpperCase()}: `}${r.note}`);
  for (const r of recording) {
    const perOp = (ms: number) => ((ms * r.us_per_op!) / r.ours_ms!).toFixed(1); // ms → µs per op, by the same op count
    const peer = r.peer_record_ms === null ? "" : `, ${r.peer} ${perOp(r.peer_record_ms)} µs/op`;
    out.push(`- ${r.name}: host time recording the chain (before waiting for the GPU): ours ${perOp(r.ours_record_ms!)} µs/op${peer}`);
  }
  return out.join("\n");
}

function row(r: ResultRecord): string[] {
  if (r.status !== "ok") return [r.name, r.status === "skipped" ? "skipped" : "FAILED", "", "", "", "", "", ""];
  return [
    r.name,
    timeCell(r.ours_ms, r.ours_min_ms, r.ours_max_ms),
    r.peer_ms === null ? "n/a" : timeCell(r.peer_ms, r.peer_min_ms, r.peer_max_ms),
    r.ratio === null ? "n/a" : `${r.ratio.toFixed(2)}×`,
    r.cpu_ratio === null ? "n/a" : `${r.cpu_ratio.toFixed(2)}×`,
    throughputCell(r),
    r.timing === "gpu-timestamp" ? "gpu-ts" : (r.timing ?? ""),
    r.peer ?? "",
  ];
}

function timeCell(median: number | null, min: number | null, max: number | null): string {
  if (median === null) return "";
  return `${fmt(median)} (${fmt(min!)}–${fmt(max!)})`;
}

function throughputCell(r: ResultRecord): string {
  if (r.us_per_op !== null) {
    return `${r.us_per_op.toFixed(1)} µs/op${r.peer_us_per_op === null ? "" : ` (peer ${r.peer_us_per_op.toFixed(1)})`}`;
  }
  if (r.gflops !== null) return `${r.gflops.toFixed(2)} GFLOP/s`;
  if (r.gbps !== null) return `${r.gbps.toFixed(2)} GB/s`;
  return "";
}

/** Three significant digits, without exponent notation. */
function fmt(ms: number): string {
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toFixed(3);
}
