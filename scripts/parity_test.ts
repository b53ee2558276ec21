import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parseSafetensors, serializeSafetensors, type TensorInput, toFloat32Array } from "../packages/safetensors/mod.ts";
import { runParity } from "./parity/run_parity.ts";

const root = new URL("..", import.meta.url).pathname;
const fixtures = join(root, "packages/wgpu-tensor/test/fixtures/oracle");
const manifest = JSON.parse(readFileSync(join(fixtures, "resize.json"), "utf8"));
const outputs: string[] = manifest.outputs;
let scratch: string;

before(() => {
  scratch = mkdtempSync(join(tmpdir(), "parity-test-"));
});
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs what `npm run parity -- <folder>` runs (package.json's command, in a separate process). */
function runCli(folder: string): { lines: string[]; status: number | null; stderr: string } {
  const args = ["--conditions=@spo/source", "--import", "tsx", "scripts/parity.ts", folder];
  const result = spawnSync(process.execPath, args, { cwd: root, encoding: "utf8" });
  return { lines: result.stdout.trim().split("\n"), status: result.status, stderr: result.stderr };
}

/** A copy of the resize case's file with `delta` added to element `index` of `output`. */
function perturbedCopy(output: string, index: number, delta: number): Uint8Array {
  const parsed = parseSafetensors(readFileSync(join(fixtures, "resize.safetensors")));
  const tensors = new Map<string, TensorInput>();
  for (const [name, t] of parsed.tensors) {
    const values = toFloat32Array(t);
    if (name === output) values[index] += delta;
    tensors.set(name, { dtype: t.dtype, shape: t.shape, data: values });
  }
  return serializeSafetensors(tensors, parsed.metadata);
}

function writeCase(folder: string, name: string, fields: Record<string, unknown>, bytes?: Uint8Array): void {
  writeFileSync(join(folder, `${name}.json`), JSON.stringify({ ...manifest, name, file: `${name}.safetensors`, ...fields }));
  if (bytes) writeFileSync(join(folder, `${name}.safetensors`), bytes);
  else copyFileSync(join(fixtures, "resize.safetensors"), join(folder, `${name}.safetensors`));
}

const linePattern = /^PASS resize resize max_err=(\S+) tol=(\S+)$/;

describe("npm run parity", () => {
  test("the shipped resize case passes: one PASS line, the summary, exit code 0", () => {
    const { lines, status, stderr } = runCli(fixtures);
    assert.equal(lines.length, 2, `stdout: ${lines.join("\n")}\nstderr: ${stderr}`);
    const match = linePattern.exec(lines[0]);
    assert.ok(match, lines[0]);
    assert.ok(Number(match[1]) <= Number(match[2]), `max_err ${match[1]} above tol ${match[2]}`);
    assert.equal(lines[1], "1 passed, 0 failed, 0 skipped");
    assert.equal(status, 0);
  });

  test("a corrupted copy fails naming the output, an unknown kind is skipped, and the exit code is 1", () => {
    const folder = mkdtempSync(join(scratch, "corrupt-"));
    // 1e-3 is ten times the case's tolerance at values of order 1
    writeCase(folder, "resize", {}, perturbedCopy("bilinear_up.output", 17, 1e-3));
    writeFileSync(join(folder, "mystery.json"), JSON.stringify({ name: "mystery", kind: "no_such_kind", inputs: [], outputs: ["x"] }));
    const { lines, status } = runCli(folder);
    assert.equal(lines.length, 3, lines.join("\n"));
    assert.match(lines[0], /^SKIP mystery no_such_kind unsupported$/);
    const fail = /^FAIL resize resize max_err=(\S+) tol=(\S+) output=bilinear_up\.output$/.exec(lines[1]);
    assert.ok(fail, lines[1]);
    assert.ok(Number(fail[1]) > Number(fail[2]) && Math.abs(Number(fail[1]) - 1e-3) < 1e-4, lines[1]);
    assert.equal(lines[2], "0 passed, 1 failed, 1 skipped");
    assert.equal(status, 1);
  });

  test("the runner reads mode and size from the manifest, honours per-output tolerances and skips antialias", async () => {
    const folder = mkdtempSync(join(scratch, "config-"));
    // the bilinear outputs checked as bicubic must fail: the config is read, not assumed
    const wrongMode = structuredClone(manifest.config);
    wrongMode.bilinear_up.mode = "bicubic";
    writeCase(folder, "a_wrong_mode", { config: wrongMode });
    // a 5e-4 error passes under a per-output atol of 1e-3 (and only that output is loosened)
    writeCase(
      folder,
      "b_loose",
      { tolerance_per_output: { "bicubic_up.output": { atol: 1e-3, rtol: 0 } } },
      perturbedCopy("bicubic_up.output", 3, 5e-4),
    );
    const antialias = structuredClone(manifest.config);
    antialias.bicubic_down.antialias = true;
    writeCase(folder, "c_antialias", { config: antialias });
    const lines: string[] = [];
    const notes: string[] = [];
    const result = await runParity(folder, { line: (text) => lines.push(text), note: (text) => notes.push(text) });
    assert.match(lines[0], /^FAIL a_wrong_mode resize max_err=\S+ tol=\S+ output=bilinear_up\.output$/);
    assert.match(lines[1], /^PASS b_loose resize max_err=\S+ tol=\S+$/);
    assert.equal(lines[2], "SKIP c_antialias resize unsupported");
    assert.ok(
      notes.some((note) => note.includes("antialias")),
      notes.join("\n"),
    );
    assert.equal(lines[3], "1 passed, 1 failed, 1 skipped");
    assert.equal(result.exitCode, 1);
    assert.ok(outputs.includes("bicubic_up.output"));
  });
});
