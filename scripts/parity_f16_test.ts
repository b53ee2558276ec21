import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parseSafetensors, serializeSafetensors, type TensorInput, toFloat32Array } from "../packages/safetensors/mod.ts";
import { F16_UNIT_ROUNDOFF, halfPrecisionAllowance } from "./parity/half_precision.ts";
import { runParity } from "./parity/run_parity.ts";

const root = new URL("..", import.meta.url).pathname;
const fixtures = join(root, "packages/clip/test/fixtures/oracle");
let scratch: string;

before(() => {
  scratch = mkdtempSync(join(tmpdir(), "parity-f16-test-"));
});
after(() => rmSync(scratch, { recursive: true, force: true }));

async function run(folder: string) {
  const lines: string[] = [];
  const notes: string[] = [];
  const result = await runParity(folder, { line: (t) => lines.push(t), note: (t) => notes.push(t) }, undefined, { dtype: "f16" });
  return { lines, notes, result };
}

describe("parity --dtype f16", () => {
  test("the allowance is 2·D·u·max|want| with u = 2⁻¹¹", () => {
    assert.equal(F16_UNIT_ROUNDOFF, 1 / 2048);
    // D = 10, max |want| = 2: 2·10·2·2⁻¹¹ = 40/2048
    assert.equal(halfPrecisionAllowance(10, [0.5, -2, 1]), 40 / 2048);
  });

  test("a CLIP text case runs with f16 weights within the allowance, and an error of 3 allowances fails", async () => {
    const folder = join(scratch, "ok");
    const bad = join(scratch, "bad");
    for (const dir of [folder, bad]) {
      mkdirSync(dir, { recursive: true });
      copyFileSync(join(fixtures, "clip_text_eos.json"), join(dir, "clip_text_eos.json"));
    }
    copyFileSync(join(fixtures, "clip_text_eos.safetensors"), join(folder, "clip_text_eos.safetensors"));
    const good = await run(folder);
    assert.equal(good.result.passed, 1, good.notes.join("\n"));
    const line = good.lines[0]!;
    const depth = Number(/f16\(D=(\d+)\)/.exec(line)?.[1]);
    assert.ok(depth > 0, `the case ran in f16: ${line}`);

    // the reference's last_hidden_state moved by 3 allowances at one element: f16 must not hide it
    const parsed = parseSafetensors(readFileSync(join(fixtures, "clip_text_eos.safetensors")));
    const tensors = new Map<string, TensorInput>();
    for (const [name, t] of parsed.tensors) {
      const values = toFloat32Array(t);
      if (name === "last_hidden_state") values[7] += 3 * halfPrecisionAllowance(depth, values);
      tensors.set(name, { dtype: t.dtype, shape: t.shape, data: name === "last_hidden_state" ? values : t.data });
    }
    writeFileSync(join(bad, "clip_text_eos.safetensors"), serializeSafetensors(tensors, parsed.metadata));
    const failed = await run(bad);
    assert.equal(failed.result.failed, 1, failed.lines.join("\n"));
    assert.match(failed.lines[0]!, /^FAIL clip_text_eos clip_text f16\(D=\d+\).*output=last_hidden_state/);
  });

  test("the CLI refuses a dtype other than f32 or f16", () => {
    const result = spawnSync(
      process.execPath,
      ["--conditions=@spo/source", "--import", "tsx", "scripts/parity.ts", scratch, "--dtype", "bf16"],
      { cwd: root, encoding: "utf8" },
    );
    assert.equal(result.status, 2);
    assert.match(result.stderr, /--dtype f32\|f16/);
  });
});
