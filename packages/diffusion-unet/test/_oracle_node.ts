/**
 * Test helpers for the oracle fixtures in test/fixtures/oracle/: load a case (manifest + tensors)
 * and compare values the way the fixtures' README defines (numpy `allclose`).
 * @module
 */
import { readFile } from "node:fs/promises";
import { parseSafetensors, toFloat32Array } from "@spo/safetensors";
import type { ParityTensor, SchedulerManifest } from "../../../scripts/parity/cases/scheduler_case.ts";
import { parseDiffusersJson } from "../schedulers/scheduler_config.ts";

const FIXTURES = new URL("./fixtures/oracle/", import.meta.url);

/** The manifest fields a test reads, with the tolerances. */
export interface OracleManifest extends SchedulerManifest {
  file: string;
  tolerance: Tolerance;
  tolerance_per_output?: Record<string, Tolerance>;
}

export interface Tolerance {
  atol: number;
  rtol: number;
}

/** A fixture tensor as float32 values; integer tensors (timesteps) must be matched exactly. */
export interface OracleTensor extends ParityTensor {
  data: Float32Array;
  isInteger: boolean;
}

/** A case's manifest and every tensor of its file as float32 (integer tensors converted exactly). */
export async function loadOracleCase(name: string): Promise<{ manifest: OracleManifest; tensors: Map<string, OracleTensor> }> {
  const manifest = parseDiffusersJson(await readFile(new URL(`${name}.json`, FIXTURES), "utf8")) as OracleManifest;
  const parsed = parseSafetensors(await readFile(new URL(manifest.file, FIXTURES)));
  const tensors = new Map<string, OracleTensor>();
  for (const [key, tensor] of parsed.tensors) {
    tensors.set(key, {
      shape: tensor.shape,
      data: toFloat32Array(tensor),
      isInteger: tensor.dtype.startsWith("I") || tensor.dtype.startsWith("U"),
    });
  }
  return { manifest, tensors };
}

/** The tolerance of one output: exact for integers, else its override or the case's. */
export function toleranceOf(manifest: OracleManifest, output: string, want: OracleTensor): Tolerance {
  if (want.isInteger) return { atol: 0, rtol: 0 };
  return manifest.tolerance_per_output?.[output] ?? manifest.tolerance;
}

/**
 * Throws unless |got − want| ≤ atol + rtol·|want| everywhere (and the lengths agree), naming the
 * worst element.
 */
export function assertAllClose(got: ArrayLike<number>, want: ArrayLike<number>, tolerance: Tolerance, label: string): void {
  if (got.length !== want.length) throw new Error(`${label}: ${got.length} values, expected ${want.length}`);
  let worst = -1;
  let worstExcess = 0;
  let failures = 0;
  for (let i = 0; i < want.length; i++) {
    const allowed = tolerance.atol + tolerance.rtol * Math.abs(want[i]);
    const error = Math.abs(got[i] - want[i]);
    if (!(error <= allowed)) {
      failures++;
      const excess = Number.isNaN(error) ? Infinity : error / allowed;
      if (excess > worstExcess || worst < 0) {
        worst = i;
        worstExcess = excess;
      }
    }
  }
  if (failures > 0) {
    throw new Error(
      `${label}: ${failures} of ${want.length} values outside atol ${tolerance.atol} + rtol ${tolerance.rtol}; ` +
        `worst at ${worst}: got ${got[worst]}, expected ${want[worst]}`,
    );
  }
}
