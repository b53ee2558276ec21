import assert from "node:assert/strict";
import { test } from "node:test";
import type { BenchCase, BenchContext, Side } from "./bench_case.ts";
import { measureCase } from "./measure.ts";

// A device without timestamp-query: the harness falls back to wall-clock timing.
const noTimestamps = { features: new Set<string>() } as unknown as GPUDevice;
const context = { device: null, peer: null } as unknown as BenchContext;

/** A host-only side returning fixed values, counting its runs. */
function fakeSide(label: string, values: number[], delayMs = 0): Side<Float32Array> & { runs: number } {
  const side = {
    label,
    gpu: noTimestamps,
    runs: 0,
    run() {
      side.runs++;
      const until = performance.now() + delayMs;
      while (performance.now() < until) {
        /* busy: the "work" being timed */
      }
      return Float32Array.from(values);
    },
    sync: () => Promise.resolve(),
    read: (result: Float32Array) => Promise.resolve(result),
    release() {},
  };
  return side;
}

function fakeCase(ours: Side, peer: Side | null, extra: Partial<BenchCase> = {}): BenchCase {
  return { name: "fake", group: "test", setup: () => ({ ours, peer, dispose() {} }), ...extra };
}

test("a case whose answers agree is checked, warmed up and timed on both sides, by wall clock without timestamps", async () => {
  const ours = fakeSide("ours", [1, 2, 3], 1);
  const peer = fakeSide("peer", [1, 2, 3.0001], 2);
  let cpuMs = 0;
  const cpuClock = () => (cpuMs += 5); // each reading 5 ms later: a run spans two readings
  const result = await measureCase(fakeCase(ours, peer, { flops: 1e6 }), context, { budgetMs: 30, minReps: 3, maxReps: 5, cpuClock });
  assert.equal(result.status, "ok", result.detail);
  assert.match(result.detail, /max \|error\|/);
  assert.equal(result.ours?.method, "wall");
  assert.equal(result.ours?.gpu, null);
  const reps = result.ours!.summary.count;
  assert.ok(reps >= 3 && reps <= 5);
  assert.equal(ours.runs, 1 + 1 + reps); // check, warm-up, timed
  assert.equal(peer.runs, 1 + 1 + reps);
  assert.ok(result.peer!.summary.median > result.ours!.summary.median, "the slower side has the larger median");
  assert.deepEqual([result.ours!.cpu?.median, result.peer!.cpu?.count], [5, reps]);
});

test("a case whose answers disagree fails loudly and is never timed", async () => {
  const ours = fakeSide("ours", [1, 2, 3]);
  const peer = fakeSide("peer", [1, 2, 4]);
  const result = await measureCase(fakeCase(ours, peer), context);
  assert.equal(result.status, "failed");
  assert.match(result.detail, /^check failed: 1 of 3 values differ/);
  assert.equal(result.ours, null);
  assert.equal(ours.runs, 1);
});

test("a case with a skip reason is skipped before setup, and an error in setup fails the case without throwing", async () => {
  let setups = 0;
  const skipped = await measureCase(
    {
      name: "s",
      group: "test",
      skipReason: () => "op missing",
      setup: () => {
        setups++;
        throw new Error("no");
      },
    },
    context,
  );
  assert.deepEqual([skipped.status, skipped.detail, setups], ["skipped", "op missing", 0]);
  const failed = await measureCase(
    {
      name: "f",
      group: "test",
      setup: () => {
        throw new Error("setup broke");
      },
    },
    context,
  );
  assert.equal(failed.status, "failed");
  assert.match(failed.detail, /setup broke/);
});

test("a case without a peer runs its own check and is timed for ours only", async () => {
  const ours = fakeSide("ours", [5]);
  let checks = 0;
  const benchCase: BenchCase = {
    name: "solo",
    group: "test",
    peerUnavailable: () => "too big",
    setup: () => ({
      ours,
      peer: null,
      check: () => {
        checks++;
        return Promise.resolve({ ok: true, detail: "fine" });
      },
      dispose() {},
    }),
  };
  // a budget no run of a no-op can use up, whatever the machine's load: the default maximum of repetitions
  const result = await measureCase(benchCase, { ...context, peer: {} } as BenchContext, { budgetMs: 1e9 });
  assert.equal(result.status, "ok");
  assert.equal(checks, 1);
  assert.equal(result.peer, null);
  assert.equal(result.peerNote, "too big");
  assert.equal(result.ours!.summary.count, 10);
});
