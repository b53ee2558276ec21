import type { CaseResult, SideTiming } from "./measure.ts";

/** One line of `results/latest.json`: the fields the issue asks for, then details. */
export interface ResultRecord {
  name: string;
  /** Median milliseconds of one run (null when skipped or failed). */
  ours_ms: number | null;
  peer_ms: number | null;
  /** peer_ms / ours_ms: above 1 means we are faster. */
  ratio: number | null;
  /** Our GFLOP/s at the median; null where the case counts bytes or ops instead. */
  gflops: number | null;
  group: string;
  status: CaseResult["status"];
  /** "gpu-timestamp" (summed pass timestamps) or "wall" (recording to completion). */
  timing: string | null;
  gbps: number | null;
  us_per_op: number | null;
  /** The peer's µs per op, for dispatch-overhead cases. */
  peer_us_per_op: number | null;
  ours_min_ms: number | null;
  ours_max_ms: number | null;
  peer_min_ms: number | null;
  peer_max_ms: number | null;
  ours_wall_ms: number | null;
  peer_wall_ms: number | null;
  /** Median host milliseconds spent recording a run (inside `run()`, before waiting for the GPU). */
  ours_record_ms: number | null;
  peer_record_ms: number | null;
  /** Median process CPU milliseconds per run (driver threads included on a CPU adapter). */
  ours_cpu_ms: number | null;
  peer_cpu_ms: number | null;
  /** peer_cpu_ms / ours_cpu_ms: the ratio by the CPU time the work consumed, robust to machine load. */
  cpu_ratio: number | null;
  /** Our GFLOP per CPU-second (median CPU time), where the case counts flops. */
  gflops_per_cpu_s: number | null;
  repetitions: number | null;
  peer: string | null;
  /** Check detail, skip reason, failure, or why the peer did not run. */
  note: string;
}

/** Our throughput at the median time: GFLOP/s, GB/s or µs per op, whichever the case counts. */
export function throughput(result: CaseResult): { gflops: number | null; gbps: number | null; usPerOp: number | null } {
  const ms = result.ours?.summary.median;
  if (ms === undefined) return { gflops: null, gbps: null, usPerOp: null };
  return {
    gflops: result.flops !== null ? result.flops / ms / 1e6 : null,
    gbps: result.bytes !== null ? result.bytes / ms / 1e6 : null,
    usPerOp: result.opsPerRun !== null ? (ms * 1000) / result.opsPerRun : null,
  };
}

/** The ratio peer/ours of the reported medians, when both sides were timed the same way. */
export function ratioOf(result: CaseResult): number | null {
  if (!result.ours || !result.peer) return null;
  return result.peer.summary.median / result.ours.summary.median;
}

/**
 * Flattens a case result into its JSON record.
 *
 * @example
 * ```ts
 * const records = results.map(toRecord);
 * ```
 */
export function toRecord(result: CaseResult): ResultRecord {
  const { gflops, gbps, usPerOp } = throughput(result);
  const side = (timing: SideTiming | null) => timing?.summary ?? null;
  const notes = [result.detail, result.peerNote ? `peer: ${result.peerNote}` : ""].filter((s) => s !== "");
  return {
    name: result.name,
    ours_ms: side(result.ours)?.median ?? null,
    peer_ms: side(result.peer)?.median ?? null,
    ratio: ratioOf(result),
    gflops,
    group: result.group,
    status: result.status,
    timing: result.ours?.method ?? null,
    gbps,
    us_per_op: usPerOp,
    peer_us_per_op: result.opsPerRun !== null && result.peer ? (result.peer.summary.median * 1000) / result.opsPerRun : null,
    ours_min_ms: side(result.ours)?.min ?? null,
    ours_max_ms: side(result.ours)?.max ?? null,
    peer_min_ms: side(result.peer)?.min ?? null,
    peer_max_ms: side(result.peer)?.max ?? null,
    ours_wall_ms: result.ours?.wall.median ?? null,
    peer_wall_ms: result.peer?.wall.median ?? null,
    ours_record_ms: result.ours?.record.median ?? null,
    peer_record_ms: result.peer?.record.median ?? null,
    ours_cpu_ms: result.ours?.cpu?.median ?? null,
    peer_cpu_ms: result.peer?.cpu?.median ?? null,
    cpu_ratio: result.ours?.cpu && result.peer?.cpu ? result.peer.cpu.median / result.ours.cpu.median : null,
    gflops_per_cpu_s: result.flops !== null && result.ours?.cpu ? result.flops / result.ours.cpu.median / 1e6 : null,
    repetitions: result.ours?.summary.count ?? null,
    peer: result.peer?.label ?? null,
    note: notes.join("; "),
  };
}
