/**
 * The experiment's results: one record per (variant, seed), summarized per variant (mean over
 * seeds with a Student-t interval, paired differences against the base model and against SPO) and
 * written as a Markdown table and a JSON document.
 *
 * @module
 */

import { type MeanWithInterval, meanWithInterval } from "../reward/statistics.ts";
import type { ExperimentVariant } from "./experiment_variants.ts";
import { meanWithTInterval, pairedDifference } from "./seed_interval.ts";

/** A point of a reward-against-compute curve (reward on the monitor prompts of the training split). */
export interface CurvePoint {
  forwardEquivalents: number;
  seconds: number;
  reward: number;
}

/** What one (variant, seed) run measured. */
export interface RunRecord {
  variant: string;
  seed: number;
  /** Exact reward of each held-out image (the evaluation set's order). */
  rewards: number[];
  /** Mean held-out reward with its image-level 95 % interval. */
  reward: MeanWithInterval;
  /** Mean step-aware SPM score of the held-out images at the last timestep (null without an SPM). */
  spmScore: number | null;
  /** Training compute: UNet rows, rows with gradient, forward-equivalents (rows + 2 · gradient rows). */
  compute: { rows: number; gradientRows: number; forwardEquivalents: number };
  /** Wall time of training (evaluations excluded). */
  trainSeconds: number;
  /** CPU time of the process during training (all threads), less sensitive to a shared machine than wall time. */
  trainCpuSeconds: number;
  iterations: number;
  updates: number;
  /** SPO: pairs kept over pairs offered, summed over iterations; DPO: pairs trained on and pairs made. */
  pairsKept: number;
  pairsOffered: number;
  /** Share of the ratios outside SPO's clip [1 − ε, 1 + ε] (no gradient), mean over updates (absent in older results). */
  clampedFraction?: number | null;
  curve: CurvePoint[];
}

/** One row of the table. */
export interface VariantSummary {
  id: string;
  label: string;
  differs: string;
  seeds: number[];
  /** Mean over seeds of the held-out mean reward, 95 % t interval over seeds. */
  reward: MeanWithInterval;
  /** All held-out images of all seeds pooled, 95 % normal interval over images. */
  pooled: MeanWithInterval;
  /** Mean per-image difference to the base model (same prompt and seed), pooled over seeds. */
  vsBase: MeanWithInterval | null;
  /** Difference to SPO paired by training seed (seeds both have), 95 % t interval. */
  vsSpo: MeanWithInterval | null;
  spmScore: number | null;
  forwardEquivalents: number;
  trainSeconds: number;
  trainCpuSeconds: number;
  updates: number;
  pairsKept: number;
  pairsOffered: number;
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** The summary of every variant that has at least one record, in the variants' order. */
export function summarizeRuns(variants: readonly ExperimentVariant[], records: readonly RunRecord[]): VariantSummary[] {
  const base = records.find((r) => r.variant === "base");
  const spo = records.filter((r) => r.variant === "spo");
  const out: VariantSummary[] = [];
  for (const v of variants) {
    const runs = records.filter((r) => r.variant === v.id).sort((a, b) => a.seed - b.seed);
    if (runs.length === 0) continue;
    const pooledRewards = runs.flatMap((r) => r.rewards);
    const differences = base && v.id !== "base" ? runs.flatMap((r) => r.rewards.map((x, i) => x - base.rewards[i]!)) : null;
    const shared = v.id === "spo" ? [] : runs.filter((r) => spo.some((s) => s.seed === r.seed));
    const spoMeans = shared.map((r) => spo.find((s) => s.seed === r.seed)!.reward.mean);
    const scores = runs.map((r) => r.spmScore).filter((s): s is number => s !== null);
    out.push({
      id: v.id,
      label: v.label,
      differs: v.differs,
      seeds: runs.map((r) => r.seed),
      reward: meanWithTInterval(runs.map((r) => r.reward.mean)),
      pooled: meanWithInterval(pooledRewards),
      vsBase: differences && differences.length > 0 ? meanWithInterval(differences) : null,
      vsSpo:
        shared.length > 0
          ? pairedDifference(
              shared.map((r) => r.reward.mean),
              spoMeans,
            )
          : null,
      spmScore: scores.length > 0 ? mean(scores) : null,
      forwardEquivalents: mean(runs.map((r) => r.compute.forwardEquivalents)),
      trainSeconds: mean(runs.map((r) => r.trainSeconds)),
      trainCpuSeconds: mean(runs.map((r) => r.trainCpuSeconds)),
      updates: mean(runs.map((r) => r.updates)),
      pairsKept: mean(runs.map((r) => r.pairsKept)),
      pairsOffered: mean(runs.map((r) => r.pairsOffered)),
    });
  }
  return out;
}

function interval(r: MeanWithInterval | null, digits = 3): string {
  if (r === null) return "—";
  const ci = Number.isNaN(r.low) ? "n/a" : `${r.low.toFixed(digits)} … ${r.high.toFixed(digits)}`;
  return `${r.mean.toFixed(digits)} [${ci}]`;
}

function signed(r: MeanWithInterval | null): string {
  if (r === null) return "—";
  const s = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(3)}`;
  return Number.isNaN(r.low) ? `${s(r.mean)} [n/a]` : `${s(r.mean)} [${s(r.low)} … ${s(r.high)}]`;
}

function compact(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)} M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)} k`;
  return value.toFixed(0);
}

/** The summaries as a Markdown table (95 % intervals in brackets). */
export function markdownTable(summaries: readonly VariantSummary[]): string {
  const header = [
    "run",
    "what differs",
    "seeds",
    "held-out reward, mean over seeds [95 % t CI]",
    "all images pooled [95 % CI]",
    "− base, per image [95 % CI]",
    "− SPO, paired by seed [95 % t CI]",
    "SPM score",
    "UNet fwd-equiv.",
    "train wall s",
    "train CPU s",
    "updates",
    "pairs kept / offered",
  ];
  const rows = summaries.map((s) => [
    s.label,
    s.differs,
    String(s.seeds.length),
    interval(s.reward),
    interval(s.pooled),
    signed(s.vsBase),
    signed(s.vsSpo),
    s.spmScore === null ? "—" : s.spmScore.toFixed(2),
    s.id === "base" ? "0" : compact(s.forwardEquivalents),
    s.id === "base" ? "0" : s.trainSeconds.toFixed(0),
    s.id === "base" ? "0" : s.trainCpuSeconds.toFixed(0),
    s.id === "base" ? "—" : s.updates.toFixed(1),
    s.id === "base" ? "—" : `${s.pairsKept.toFixed(0)} / ${s.pairsOffered.toFixed(0)}`,
  ]);
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`;
  return `${[line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n")}\n`;
}

/** The JSON document: settings, machine, summaries and every record (NaN written as null). */
export function resultsJson(document: {
  settings: unknown;
  machine: unknown;
  summaries: readonly VariantSummary[];
  records: readonly RunRecord[];
}): string {
  return `${JSON.stringify(document, (_, value) => (typeof value === "number" && !Number.isFinite(value) ? null : value), 2)}\n`;
}
