// The heavy tier of the checkpoint fuzzer: 10^5 mutated PyTorch files (SPO_HEAVY=1).
import assert from "node:assert/strict";
import { test } from "node:test";
import { fuzzCheckpoints } from "./_fuzz_checkpoints.ts";

test("100,000 mutated checkpoints load or fail with a TorchCheckpointError, and nothing is executed", async () => {
  const started = performance.now();
  const tally = await fuzzCheckpoints(100_000);
  console.log(`fuzz: ${JSON.stringify(tally)} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  assert.equal(tally.cases, 100_000);
  assert.ok(tally.loaded > 0 && (tally.refusedByCode.forbidden_global ?? 0) > 0, JSON.stringify(tally));
});
