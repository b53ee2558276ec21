import assert from "node:assert/strict";
import { test } from "node:test";
import { ratioChartSvg } from "./chart_svg.ts";
import type { CaseResult } from "./measure.ts";
import { type ResultRecord, toRecord } from "./results.ts";
import { summarize } from "./stats.ts";
import { formatTable } from "./table.ts";

function timed(label: string, samples: number[]) {
  const summary = summarize(samples);
  return { label, method: "gpu-timestamp" as const, summary, wall: summary, gpu: summary, record: summary, cpu: summary };
}

const base: CaseResult = {
  name: "matmul 2×3×4",
  group: "matmul",
  status: "ok",
  detail: "max |error| 0",
  ours: timed("ours", [2, 2, 4]),
  peer: timed("tfjs-webgpu", [6, 5, 7]),
  peerNote: null,
  flops: 2e9,
  bytes: null,
  opsPerRun: null,
};

test("a record carries the issue's fields: medians, ratio = peer/ours and our GFLOP/s", () => {
  const record = toRecord(base);
  assert.deepEqual(
    { name: record.name, ours_ms: record.ours_ms, peer_ms: record.peer_ms, ratio: record.ratio, gflops: record.gflops },
    { name: "matmul 2×3×4", ours_ms: 2, peer_ms: 6, ratio: 3, gflops: 1000 },
  );
  assert.equal(record.timing, "gpu-timestamp");
});

test("cases counted in bytes or ops have null GFLOP/s, and skipped ones null times", () => {
  const bytes = toRecord({ ...base, flops: null, bytes: 4e6 });
  assert.deepEqual([bytes.gflops, bytes.gbps], [null, 2]);
  const ops = toRecord({ ...base, flops: null, opsPerRun: 100 });
  assert.equal(ops.us_per_op, 20);
  const skipped = toRecord({ ...base, status: "skipped", detail: "conv2d missing", ours: null, peer: null });
  assert.deepEqual([skipped.ours_ms, skipped.ratio, skipped.gflops], [null, null, null]);
});

test("the table shows median (min–max), the ratio, throughput and notes for skipped and peer-less cases", () => {
  const records: ResultRecord[] = [
    toRecord(base),
    toRecord({ ...base, name: "conv", status: "skipped", detail: "conv2d missing", ours: null, peer: null }),
    toRecord({ ...base, name: "big attention", peer: null, peerNote: "1 GiB of scores" }),
  ];
  const table = formatTable(records);
  assert.match(
    table,
    /\| matmul 2×3×4 +\| 2\.00 \(2\.00–4\.00\) \| 6\.00 \(5\.00–7\.00\) \| 3\.00× +\| 3\.00× +\| 1000\.00 GFLOP\/s \| gpu-ts \| tfjs-webgpu \|/,
  );
  assert.match(table, /- conv: SKIPPED: conv2d missing/);
  assert.match(table, /- big attention: max \|error\| 0; peer: 1 GiB of scores/);
});

test("the chart draws one bar per ratio from the 1× line, right for faster and left for slower", () => {
  const records = [
    toRecord(base),
    toRecord({ ...base, name: "slower", peer: timed("tfjs-webgpu", [1, 1, 1]) }),
    toRecord({ ...base, name: "solo", peer: null, peerNote: "too big" }),
  ];
  const svg = ratioChartSvg(records, "test machine");
  const bars = [...svg.matchAll(/<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"[^>]*fill="(#[0-9a-f]+)"/g)];
  assert.equal(bars.length, 2);
  const oneX = Number(/<line x1="([\d.]+)"[^>]*stroke="black"/.exec(svg)![1]);
  const [faster, slower] = bars.map((m) => ({ x: Number(m[1]), width: Number(m[2]), color: m[3] }));
  assert.ok(Math.abs(faster.x - oneX) < 0.1 && faster.color === "#2e8b57");
  assert.ok(Math.abs(slower.x + slower.width - oneX) < 0.1 && slower.color === "#c0392b");
  assert.match(svg, /3\.00×/);
  assert.match(svg, /n\/a, the peer cannot run it: too big/);
  assert.ok(svg.startsWith("<svg") && svg.trim().endsWith("</svg>"));
});
