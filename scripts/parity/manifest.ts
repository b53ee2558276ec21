/** numpy `allclose` tolerances: pass when |got − want| ≤ atol + rtol·|want|. */
export interface Tolerance {
  atol: number;
  rtol: number;
}

/**
 * One oracle case manifest (shared/fixtures/oracle/README.md): what was computed, its config,
 * the names of its inputs and expected outputs, and where the tensors are.
 */
export interface Manifest {
  name: string;
  kind: string;
  description?: string;
  config: Record<string, unknown>;
  inputs: string[];
  outputs: string[];
  shapes?: Record<string, number[]>;
  /** The case's safetensors file (absent for self-contained JSON cases). */
  file?: string;
  weights_prefix?: string;
  weights_file?: string;
  lora_files?: Record<string, string> | string[];
  tolerance?: Tolerance;
  tolerance_per_output?: Record<string, Tolerance>;
  [field: string]: unknown;
}

/** Used when a manifest names no tolerance: the README's floor. */
export const DEFAULT_TOLERANCE: Tolerance = { atol: 1e-5, rtol: 1e-5 };

/** The tolerance of one output: its `tolerance_per_output` entry, else the case's `tolerance`. */
export function toleranceOf(manifest: Manifest, output: string): Tolerance {
  return manifest.tolerance_per_output?.[output] ?? manifest.tolerance ?? DEFAULT_TOLERANCE;
}

/**
 * Checks that parsed JSON is a manifest (has `kind` and string lists `outputs`), filling `name`
 * from the file name when missing; returns null for JSON files that are not manifests.
 */
export function asManifest(json: unknown, fileStem: string): Manifest | null {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return null;
  const record = json as Record<string, unknown>;
  if (typeof record.kind !== "string") return null;
  const isStringList = (value: unknown) => Array.isArray(value) && value.every((v) => typeof v === "string");
  if (!isStringList(record.outputs)) return null;
  return {
    ...record,
    name: typeof record.name === "string" ? record.name : fileStem,
    kind: record.kind,
    config: (typeof record.config === "object" && record.config !== null ? record.config : {}) as Record<string, unknown>,
    inputs: isStringList(record.inputs) ? (record.inputs as string[]) : [],
    outputs: record.outputs as string[],
  };
}

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity };

/**
 * `JSON.parse` that also reads the `NaN`, `Infinity` and `-Infinity` Python's `json.dump` writes
 * (e.g. `lambda_min_clipped: -Infinity` in a scheduler config). Only bare tokens outside strings
 * are translated.
 */
export function parsePythonJson(text: string): unknown {
  const marker = "\u0000spo-non-finite:";
  let out = "";
  let i = 0;
  while (i < text.length) {
    const char = text[i];
    if (char === '"') {
      // copy a whole string literal, escapes included
      let end = i + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
      out += text.slice(i, end + 1);
      i = end + 1;
      continue;
    }
    const token = /^(-Infinity|Infinity|NaN)/.exec(text.slice(i, i + 9));
    if (token) {
      out += JSON.stringify(marker + token[1]);
      i += token[1].length;
      continue;
    }
    out += char;
    i++;
  }
  return JSON.parse(out, (_key, value) =>
    typeof value === "string" && value.startsWith(marker) ? NON_FINITE[value.slice(marker.length)] : value,
  );
}
