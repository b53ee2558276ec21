// Heavy tier (SPO_HEAVY=1): `npm run experiments -- --quick` end to end in a child process, with the
// exact reward as SPO's scorer (the toy preference models need not be trained). It takes minutes on a
// 2-core CPU, too long for the unit tier. Checks what it writes: a record per run, compute charged to
// every trained run and none to the base, Diffusion-DPO given at least SPO's compute, the table,
// the chart and a PNG grid per run.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { EXPERIMENT_VARIANTS } from "./experiment_variants.ts";
import type { RunRecord, VariantSummary } from "./results_table.ts";

const run = promisify(execFile);
let out: string;
before(async () => {
  out = await mkdtemp(join(tmpdir(), "spo-experiments-"));
});
after(async () => {
  await rm(out, { recursive: true, force: true });
});

test("npm run experiments -- --quick writes a table, JSON, a chart and grids for every run", { timeout: 3_600_000 }, async () => {
  const script = fileURLToPath(new URL("./run_experiments_node.ts", import.meta.url));
  const { stdout } = await run(
    process.execPath,
    ["--conditions=@spo/source", "--import", "tsx", script, "--quick", "--scorer", "exact", "--out", out],
    {
      timeout: 3_500_000,
      maxBuffer: 1 << 24,
    },
  );
  assert.match(stdout, /^\| run \|/);
  const results = JSON.parse(await readFile(join(out, "results.json"), "utf8")) as { records: RunRecord[]; summaries: VariantSummary[] };
  assert.deepEqual(
    results.summaries.map((s) => s.id),
    EXPERIMENT_VARIANTS.map((v) => v.id),
  );
  for (const r of results.records) {
    assert.equal(r.rewards.length, 8);
    assert.ok(r.rewards.every((x) => x >= 0 && x <= 1));
    if (r.variant === "base") assert.equal(r.compute.forwardEquivalents, 0);
    else {
      assert.ok(r.compute.forwardEquivalents > 0, r.variant);
      assert.ok(r.compute.gradientRows > 0 || r.updates === 0, r.variant);
      assert.equal(r.curve.length, 1);
    }
  }
  const spo = results.records.find((r) => r.variant === "spo")!;
  const dpo = results.records.find((r) => r.variant === "dpo")!;
  assert.ok(dpo.compute.forwardEquivalents >= spo.compute.forwardEquivalents);
  const k2 = results.records.find((r) => r.variant === "k2")!;
  const k8 = results.records.find((r) => r.variant === "k8")!;
  assert.ok(k8.compute.forwardEquivalents > k2.compute.forwardEquivalents, "a pool of 8 costs more than a pool of 2");
  const table = await readFile(join(out, "results.md"), "utf8");
  for (const v of EXPERIMENT_VARIANTS) assert.ok(table.includes(`| ${v.label} |`), v.label);
  assert.match(await readFile(join(out, "reward_vs_compute.svg"), "utf8"), /^<svg /);
  const grids = await readdir(join(out, "grids"));
  for (const v of EXPERIMENT_VARIANTS) assert.ok(grids.includes(`${v.id}.png`), v.id);
});
