import { Device, type Module } from "../../packages/wgpu-tensor/mod.ts";
import { toFloat32Array } from "../../packages/safetensors/mod.ts";
import { CaseFiles, listManifests } from "./case_files_node.ts";
import { type Comparison, compareArrays, compareJson, formatNumber } from "./compare.ts";
import { type CaseContext, type KindRunner, type ProducedOutput, UnsupportedCaseError } from "./kind_runner.ts";
import { kindRunners } from "./kinds/registry.ts";
import { type Manifest, type Tolerance, toleranceOf } from "./manifest.ts";
import { weightedLayerCount, widenForHalfPrecision } from "./half_precision.ts";

/** Options of {@link runParity}. */
export interface ParityOptions {
  /** "f16": model kinds run with f16 weights and activations and f16-derived tolerances (half_precision.ts). */
  dtype?: "f32" | "f16";
}

/** Where the runner writes: one line per case plus the summary to `line`, diagnostics to `note`. */
export interface ParityLog {
  line(text: string): void;
  note(text: string): void;
}

/** Case counts and the process exit code they imply. */
export interface ParityResult {
  passed: number;
  failed: number;
  skipped: number;
  /** 1 when any case failed, else 0. */
  exitCode: number;
}

const INTEGER_DTYPES = new Set(["I64", "I32", "I16", "I8", "U64", "U32", "U16", "U8", "BOOL"]);

/**
 * Runs every oracle case of `folder` whose kind has a runner and reports, per case,
 * `PASS|FAIL|SKIP <case> <kind> …`, then `<N> passed, <M> failed, <K> skipped`.
 */
export async function runParity(
  folder: string,
  log: ParityLog,
  runners: Record<string, KindRunner> = kindRunners,
  options: ParityOptions = {},
): Promise<ParityResult> {
  const dtype = options.dtype ?? "f32";
  const { manifests, ignored, broken } = await listManifests(folder);
  for (const name of ignored) log.note(`ignoring ${name}: not a case manifest (no kind/outputs)`);
  const result: ParityResult = { passed: 0, failed: 0, skipped: 0, exitCode: 0 };
  // a manifest that does not parse is a failed case, never a silent pass
  for (const { name, reason } of broken) {
    log.note(`${name}: ${reason}`);
    log.line(`FAIL ${name.replace(/\.json$/, "")} unknown max_err=inf tol=0 output=manifest`);
    result.failed++;
  }
  let device: Device | null = null;
  try {
    for (const { manifest } of manifests) {
      const runner = runners[manifest.kind];
      if (!runner) {
        log.line(`SKIP ${manifest.name} ${manifest.kind} unsupported`);
        result.skipped++;
        continue;
      }
      device ??= await Device.create();
      if (dtype === "f16" && !device.hasF16) throw new Error("Cannot run the cases in f16: this WebGPU adapter has no shader-f16");
      const outcome = await runCase(folder, manifest, runner, device, log, dtype);
      if (outcome === "skip") result.skipped++;
      else if (outcome === "pass") result.passed++;
      else result.failed++;
    }
  } finally {
    device?.destroy();
  }
  log.line(`${result.passed} passed, ${result.failed} failed, ${result.skipped} skipped`);
  result.exitCode = result.failed > 0 ? 1 : 0;
  return result;
}

async function runCase(
  folder: string,
  manifest: Manifest,
  runner: KindRunner,
  device: Device,
  log: ParityLog,
  dtype: "f32" | "f16",
): Promise<"pass" | "fail" | "skip"> {
  const files = new CaseFiles(folder);
  let head = `${manifest.name} ${manifest.kind}`;
  const tolerance = toleranceOf(manifest, manifest.outputs[0] ?? "");
  try {
    let halfDepth: number | null = null;
    const context = caseContext(folder, manifest, device, files, dtype, (model) => (halfDepth = weightedLayerCount(model)));
    const produced = await runner.run(context);
    if (halfDepth !== null) head += ` f16(D=${halfDepth})`;
    const comparisons: Comparison[] = [];
    for (const output of manifest.outputs) comparisons.push(await compareOutput(context, output, produced.get(output), halfDepth));
    const worst = worstOf(comparisons);
    const numbers = `max_err=${formatNumber(worst?.maxError ?? 0)} tol=${formatNumber(worst?.allowed ?? tolerance.atol)}`;
    const failures = comparisons.filter((c) => !c.isPass);
    if (failures.length === 0) {
      log.line(`PASS ${head} ${numbers}`);
      return "pass";
    }
    for (const failure of failures) log.note(`${manifest.name}: ${failure.output}: ${failure.detail}`);
    log.line(`FAIL ${head} ${numbers} output=${worst!.output}`);
    return "fail";
  } catch (error) {
    if (error instanceof UnsupportedCaseError) {
      log.note(`${manifest.name}: ${error.message}`);
      log.line(`SKIP ${head} unsupported`);
      return "skip";
    }
    log.note(`${manifest.name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    log.line(`FAIL ${head} max_err=inf tol=${formatNumber(tolerance.atol)} output=error`);
    return "fail";
  } finally {
    await files.close();
  }
}

function caseContext(
  folder: string,
  manifest: Manifest,
  device: Device,
  files: CaseFiles,
  dtype: "f32" | "f16",
  onHalf: (model: Module) => void,
): CaseContext {
  const caseFile = () => {
    if (!manifest.file) throw new Error(`Cannot read tensors of case ${manifest.name}: its manifest names no file`);
    return files.open(manifest.file);
  };
  return {
    manifest,
    folder,
    device,
    tensor: async (name) => (await caseFile()).tensor(name),
    float32: async (name) => {
      const t = await (await caseFile()).tensor(name);
      return { data: toFloat32Array(t), shape: [...t.shape] };
    },
    open: (fileName) => files.open(fileName),
    dtype,
    ranInHalfPrecision: onHalf,
  };
}

async function compareOutput(
  context: CaseContext,
  output: string,
  produced: ProducedOutput | undefined,
  halfDepth: number | null,
): Promise<Comparison> {
  const manifestTolerance = toleranceOf(context.manifest, output);
  const widen = (want: ArrayLike<number>): Tolerance =>
    halfDepth === null ? manifestTolerance : widenForHalfPrecision(manifestTolerance, halfDepth, want);
  const tolerance = manifestTolerance;
  if (!produced) return { output, isPass: false, maxError: Infinity, allowed: tolerance.atol, detail: "the runner did not produce it" };
  if (produced.type === "values") return compareArrays(output, produced.got, produced.want, widen(produced.want));
  if (produced.type === "json") return compareJson(output, produced.got, produced.want, tolerance);
  const want = await context.tensor(output);
  if (want.shape.join(",") !== produced.shape.join(",")) {
    return {
      output,
      isPass: false,
      maxError: Infinity,
      allowed: tolerance.atol,
      detail: `shape [${produced.shape}] but the reference has [${want.shape}]`,
    };
  }
  // integer outputs must match exactly
  const wanted = toFloat32Array(want);
  const exact = INTEGER_DTYPES.has(want.dtype) ? { atol: 0, rtol: 0 } : widen(wanted);
  return compareArrays(output, produced.data, wanted, exact);
}

/** The failing comparison with the largest excess, else the passing one closest to its limit. */
function worstOf(comparisons: readonly Comparison[]): Comparison | undefined {
  const score = (c: Comparison) => (c.allowed > 0 ? c.maxError / c.allowed : c.maxError > 0 ? Infinity : 0);
  let worst: Comparison | undefined;
  for (const c of comparisons) {
    if (!worst || (!c.isPass && worst.isPass) || (c.isPass === worst.isPass && score(c) > score(worst))) worst = c;
  }
  return worst;
}
