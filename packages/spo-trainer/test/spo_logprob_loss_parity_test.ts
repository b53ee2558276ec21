// The spo_logprob_loss oracle case (SPO's own ddim_step_with_logprob, loss lines and
// preference_score_compare) through the repository's parity runner and its registered kind.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { it } from "node:test";
import { runParity } from "../../../scripts/parity/run_parity.ts";
import { kindRunners } from "../../../scripts/parity/kinds/registry.ts";

const FOLDER = fileURLToPath(new URL("./fixtures/oracle/", import.meta.url));

it("passes the spo_logprob_loss oracle case through `npm run parity`'s runner", async () => {
  const lines: string[] = [];
  const notes: string[] = [];
  const result = await runParity(
    FOLDER,
    { line: (text) => lines.push(text), note: (text) => notes.push(text) },
    { spo_logprob_loss: kindRunners.spo_logprob_loss },
  );
  assert.deepEqual(
    { passed: result.passed, failed: result.failed, skipped: result.skipped },
    { passed: 1, failed: 0, skipped: 0 },
    [...lines, ...notes].join("\n"),
  );
  assert.match(lines[0], /^PASS spo_logprob_loss spo_logprob_loss /);
});
