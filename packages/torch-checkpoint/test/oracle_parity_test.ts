// The torch_* oracle cases (files written by PyTorch's own torch.save) through the repository's
// parity runner and its torch_checkpoint kind: tensors byte for byte, values, refusals.
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { kindRunners } from "../../../scripts/parity/kinds/registry.ts";
import { runParity } from "../../../scripts/parity/run_parity.ts";

const FOLDER = fileURLToPath(new URL("./fixtures/oracle/", import.meta.url));

test("every torch_checkpoint oracle case passes `npm run parity`'s runner", async () => {
  const lines: string[] = [];
  const notes: string[] = [];
  const result = await runParity(
    FOLDER,
    { line: (text) => lines.push(text), note: (text) => notes.push(text) },
    { torch_checkpoint: kindRunners.torch_checkpoint! },
  );
  assert.deepEqual(
    { passed: result.passed, failed: result.failed, skipped: result.skipped },
    { passed: 9, failed: 0, skipped: 0 },
    [...lines, ...notes].join("\n"),
  );
});
