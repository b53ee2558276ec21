import type { SafetensorsReader } from "@spo/safetensors";
import { toFloat32Array } from "@spo/safetensors";
import { type LoadReport, loadTensorInto, type Module, StateDictError } from "@spo/wgpu-tensor";

export interface LoadWeightsOptions {
  /** Fail (before loading anything) on missing, unexpected or mis-shaped keys. Default true. */
  strict?: boolean;
  /** Maps a model parameter name to its name in the file (default: the same name). */
  fileNameOf?: (parameterName: string) => string;
  /** Only file tensors whose name passes are considered (others are neither loaded nor "unexpected"). */
  isRelevant?: (fileName: string) => boolean;
  /** Called after each tensor is loaded, for progress bars. */
  onProgress?: (loaded: number, total: number, name: string) => void;
}

/**
 * Streams weights from a safetensors reader (a file in Node, a URL in browsers) into a module,
 * one tensor at a time, converting F16/BF16/F64 to f32. Names and shapes are checked from the
 * header first, so a strict load fails before reading any tensor data.
 */
export async function loadWeights(module: Module, reader: SafetensorsReader, options: LoadWeightsOptions = {}): Promise<LoadReport> {
  const fileNameOf = options.fileNameOf ?? ((name: string) => name);
  const isRelevant = options.isRelevant ?? (() => true);
  const targets = module.stateDict();
  const report: LoadReport = { missing: [], unexpected: [], mismatched: [], loaded: [] };
  const plan: [string, string][] = [];
  const claimed = new Set<string>();
  for (const [name, target] of targets) {
    const fileName = fileNameOf(name);
    if (!reader.has(fileName)) {
      report.missing.push(name);
      continue;
    }
    claimed.add(fileName);
    const { shape } = reader.info(fileName);
    if (shape.length !== target.shape.length || shape.some((d, i) => d !== target.shape[i])) {
      report.mismatched.push({ name, expected: [...target.shape], got: [...shape] });
      continue;
    }
    plan.push([name, fileName]);
  }
  for (const fileName of reader.names) {
    if (!claimed.has(fileName) && isRelevant(fileName)) report.unexpected.push(fileName);
  }
  const isClean = report.missing.length + report.unexpected.length + report.mismatched.length === 0;
  if ((options.strict ?? true) && !isClean) throw new StateDictError(report);
  for (const [name, fileName] of plan) {
    const entry = await reader.tensor(fileName);
    loadTensorInto(targets.get(name)!, { shape: entry.shape, data: toFloat32Array(entry) });
    report.loaded.push(name);
    options.onProgress?.(report.loaded.length, plan.length, name);
  }
  return report;
}
