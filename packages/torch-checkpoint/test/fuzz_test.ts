// A modest run of the checkpoint fuzzer (the heavy tier runs 10^5 cases): mutated PyTorch files
// load with tensors of their declared sizes or fail with a TorchCheckpointError, nothing else.
import assert from "node:assert/strict";
import { test } from "node:test";
import { fuzzCheckpoints } from "./_fuzz_checkpoints.ts";

test("2,000 mutated checkpoints load or fail with a TorchCheckpointError, and nothing is executed", async () => {
  const tally = await fuzzCheckpoints(2_000);
  console.log(`fuzz: ${JSON.stringify(tally)}`);
  assert.equal(tally.cases, 2_000);
  // the mutations must reach past the zip layer: some files still load, some pickles are refused
  assert.ok(tally.loaded > 0, JSON.stringify(tally));
  assert.ok((tally.refusedByCode.corrupt_pickle ?? 0) > 0, JSON.stringify(tally));
  assert.ok((tally.refusedByCode.forbidden_global ?? 0) > 0, JSON.stringify(tally));
});
