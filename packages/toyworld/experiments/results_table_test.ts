import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { EXPERIMENT_VARIANTS, selectVariants } from "./experiment_variants.ts";
import { markdownTable, resultsJson, type RunRecord, summarizeRuns } from "./results_table.ts";
import { rewardComputeChartSvg } from "./reward_compute_chart.ts";

function record(variant: string, seed: number, rewards: number[], forwardEquivalents = 0): RunRecord {
  const mean = rewards.reduce((a, b) => a + b, 0) / rewards.length;
  return {
    variant,
    seed,
    rewards,
    reward: { mean, low: mean - 0.1, high: mean + 0.1, n: rewards.length },
    spmScore: variant === "base" ? null : 20 + seed,
    compute: { rows: forwardEquivalents, gradientRows: 0, forwardEquivalents },
    trainSeconds: 10 * (seed + 1),
    trainCpuSeconds: 15 * (seed + 1),
    iterations: 2,
    updates: 3,
    pairsKept: 5,
    pairsOffered: 8,
    curve: variant === "base" ? [] : [{ forwardEquivalents, seconds: 1, reward: mean }],
  };
}

// base: 0.5, 0.5 ; SPO seeds 0,1: means 0.6, 0.8 ; k=2 seeds 0,1: means 0.55, 0.65
const records: RunRecord[] = [
  record("base", 0, [0.4, 0.6]),
  record("spo", 0, [0.5, 0.7], 1000),
  record("spo", 1, [0.7, 0.9], 3000),
  record("k2", 0, [0.5, 0.6], 800),
  record("k2", 1, [0.6, 0.7], 1200),
];

describe("experiment results table", () => {
  test("summarizeRuns: per-seed means, pooled images, differences to base (per image) and to SPO (per seed)", () => {
    const summaries = summarizeRuns(EXPERIMENT_VARIANTS, records);
    assert.deepEqual(
      summaries.map((s) => s.id),
      ["base", "spo", "k2"],
    );
    const [base, spo, k2] = summaries;
    assert.ok(Math.abs(spo!.reward.mean - 0.7) < 1e-12);
    // two seeds: t with 1 degree of freedom, s = √0.02
    assert.ok(Math.abs(spo!.reward.high - 0.7 - (12.706 * Math.sqrt(0.02)) / Math.sqrt(2)) < 1e-9);
    assert.equal(spo!.pooled.n, 4);
    assert.ok(Math.abs(spo!.pooled.mean - 0.7) < 1e-12);
    // per-image differences to base: 0.1, 0.1, 0.3, 0.3
    assert.ok(Math.abs(spo!.vsBase!.mean - 0.2) < 1e-12);
    assert.equal(spo!.vsSpo, null);
    assert.equal(base!.vsBase, null);
    // k2 − SPO per seed: −0.05, −0.15
    assert.ok(Math.abs(k2!.vsSpo!.mean + 0.1) < 1e-12);
    assert.equal(k2!.vsSpo!.n, 2);
    assert.equal(spo!.forwardEquivalents, 2000);
    assert.equal(k2!.trainSeconds, 15);
    assert.equal(spo!.spmScore, 20.5);
    assert.equal(base!.spmScore, null);
  });

  test("markdownTable: a header, a rule and one row per variant, intervals in brackets, base without compute", () => {
    const text = markdownTable(summarizeRuns(EXPERIMENT_VARIANTS, records));
    const lines = text.trim().split("\n");
    assert.equal(lines.length, 2 + 3);
    const columns = lines[0]!.split(" | ").length;
    for (const line of lines) assert.equal(line.split(" | ").length, columns, line);
    assert.match(lines[1]!, /^\| --- \|/);
    assert.match(lines[2]!, /^\| base \| no fine-tuning \| 1 \| 0\.500 \[n\/a\] \|/);
    assert.match(lines[3]!, /^\| SPO \|/);
    assert.match(lines[3]!, /\| 2\.0 k \|/);
    assert.match(lines[3]!, /\+0\.200 \[/);
    assert.match(lines[4]!, /−?-0\.100 \[/);
  });

  test("a one-seed run shows n/a for its seed interval; resultsJson writes NaN as null", () => {
    const summaries = summarizeRuns(selectVariants(["base", "spo"]), records.slice(0, 2));
    assert.ok(Number.isNaN(summaries[1]!.reward.low));
    const parsed = JSON.parse(resultsJson({ settings: { seeds: 1 }, machine: { cores: 2 }, summaries, records: records.slice(0, 2) }));
    assert.equal(parsed.summaries[1].reward.low, null);
    assert.equal(parsed.summaries[1].reward.mean, 0.6);
    assert.equal(parsed.records.length, 2);
  });

  test("the chart is an SVG with one curve per trained run and a legend entry per variant", () => {
    const summaries = summarizeRuns(EXPERIMENT_VARIANTS, records);
    const svg = rewardComputeChartSvg(records, summaries, { baseMonitorReward: 0.5 });
    assert.match(svg, /^<svg /);
    assert.equal((svg.match(/<polyline /g) ?? []).length, 4);
    for (const s of summaries) assert.ok(svg.includes(`>${s.label}<`), s.label);
  });

  test("selectVariants keeps table order and refuses unknown ids", () => {
    assert.deepEqual(
      selectVariants(["k8", "spo"]).map((v) => v.id),
      ["spo", "k8"],
    );
    assert.equal(selectVariants([]).length, EXPERIMENT_VARIANTS.length);
    assert.throws(() => selectVariants(["nope"]), /Unknown experiment variant "nope"/);
  });
});
