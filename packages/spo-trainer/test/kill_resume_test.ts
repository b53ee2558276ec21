// A run killed with SIGKILL right after a checkpoint (while it is inside the next iteration)
// resumes from that checkpoint and ends bit-identical to an uninterrupted run: the same final LoRA
// file byte for byte and the same metrics (all but the wall-clock field).
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, it } from "node:test";
import { parseMetricsLines } from "../metrics/update_metrics.ts";

const CHILD = fileURLToPath(new URL("./_train_child_node.ts", import.meta.url));
const ARGS = ["--conditions=@spo/source", "--import", "tsx", CHILD];
const root = mkdtempSync(join(tmpdir(), "spo-kill-resume-"));
after(() => rmSync(root, { recursive: true, force: true }));

function runToEnd(runDir: string, mode: "fresh" | "resume"): string {
  const result = spawnSync(process.execPath, [...ARGS, runDir, mode], { encoding: "utf8", env: process.env });
  assert.equal(result.status, 0, `${mode} run failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** Starts a run and SIGKILLs it once it has written `checkpoints` checkpoints. */
function runAndKill(runDir: string, checkpoints: number): Promise<{ signal: NodeJS.Signals | null; seen: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...ARGS, runDir, "fresh"], { env: process.env });
    let seen = 0;
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      seen = (output.match(/^checkpoint /gm) ?? []).length;
      if (seen >= checkpoints && child.exitCode === null && !child.killed) child.kill("SIGKILL");
    });
    child.on("error", reject);
    child.on("exit", (_code, signal) => resolve({ signal, seen }));
  });
}

const withoutClock = (text: string) => parseMetricsLines(text).map(({ seconds: _seconds, ...rest }) => rest);

it("resumes a SIGKILLed run onto the uninterrupted trajectory, bit for bit", async () => {
  const straight = join(root, "straight");
  const killed = join(root, "killed");
  runToEnd(straight, "fresh");

  const { signal, seen } = await runAndKill(killed, 1);
  assert.equal(signal, "SIGKILL");
  assert.ok(seen >= 1 && seen < 3, `killed after ${seen} of 3 checkpoints`);
  assert.ok(!existsSync(join(killed, "lora.safetensors")), "the killed run did not finish");
  const resumed = runToEnd(killed, "resume");
  assert.match(resumed, /done/);

  const a = readFileSync(join(straight, "lora.safetensors"));
  const b = readFileSync(join(killed, "lora.safetensors"));
  assert.ok(a.equals(b), "the final LoRA files differ");
  const metricsA = withoutClock(readFileSync(join(straight, "metrics.jsonl"), "utf8"));
  const metricsB = withoutClock(readFileSync(join(killed, "metrics.jsonl"), "utf8"));
  assert.ok(metricsA.length > 0);
  assert.deepEqual(metricsB, metricsA);
  // the LoRA moved: the runs trained
  assert.ok(metricsA.at(-1)!.loraNorm !== metricsA[0].loraNorm);
});
