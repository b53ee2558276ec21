import { type LoadReport, loadTensorInto, type Module, StateDictError } from "./module.ts";

/**
 * Where weights come from, tensor by tensor. @spo/safetensors' `SafetensorsReader` (a file in
 * Node, a URL or blob in browsers) has exactly this shape, so it can be passed as it is.
 */
export interface WeightSource {
  readonly names: readonly string[];
  has(name: string): boolean;
  info(name: string): { readonly shape: readonly number[] };
  float32(name: string): Promise<{ shape: readonly number[]; data: ArrayLike<number> }>;
}

export interface LoadWeightsOptions {
  /** Fail (before loading anything) on missing, unexpected or mis-shaped keys. Default true. */
  strict?: boolean;
  /** Maps a model parameter name to its name in the source (default: the same name). */
  fileNameOf?: (parameterName: string) => string;
  /** Only source tensors whose name passes are considered (others are neither loaded nor "unexpected"). */
  isRelevant?: (fileName: string) => boolean;
  /** Called after each tensor is loaded, for progress bars. */
  onProgress?: (loaded: number, total: number, name: string) => void;
}

/** Equal shapes, or a source shape that is the target's followed by 1s (a 1×1 conv kernel for a Linear). */
function isLoadableShape(sourceShape: readonly number[], target: readonly number[]): boolean {
  if (sourceShape.length < target.length) return false;
  if (target.some((d, i) => d !== sourceShape[i])) return false;
  return sourceShape.slice(target.length).every((d) => d === 1);
}

/**
 * Streams weights into a module one tensor at a time (a 4 GB checkpoint never sits in memory
 * whole), materialising shape-only (`init: "meta"`) parameters as it goes. Names and shapes are
 * checked from the source's header first, so a strict load fails before reading tensor data.
 *
 * @example
 * ```ts
 * const unet = UNet2DConditionModel.fromConfig(config, { init: "meta" });
 * const report = await loadWeights(unet, await readSafetensorsFile("unet/diffusion_pytorch_model.safetensors"));
 * report.loaded.length; // 686 for SD1.5
 * ```
 */
export async function loadWeights(module: Module, source: WeightSource, options: LoadWeightsOptions = {}): Promise<LoadReport> {
  const fileNameOf = options.fileNameOf ?? ((name: string) => name);
  const isRelevant = options.isRelevant ?? (() => true);
  const targets = module.stateDict();
  const report: LoadReport = { missing: [], unexpected: [], mismatched: [], loaded: [] };
  const plan: [string, string][] = [];
  const claimed = new Set<string>();
  for (const [name, target] of targets) {
    const fileName = fileNameOf(name);
    if (!source.has(fileName)) {
      report.missing.push(name);
      continue;
    }
    claimed.add(fileName);
    const { shape } = source.info(fileName);
    if (!isLoadableShape(shape, target.shape)) {
      report.mismatched.push({ name, expected: [...target.shape], got: [...shape] });
      continue;
    }
    plan.push([name, fileName]);
  }
  for (const fileName of source.names) {
    if (!claimed.has(fileName) && isRelevant(fileName)) report.unexpected.push(fileName);
  }
  const isClean = report.missing.length + report.unexpected.length + report.mismatched.length === 0;
  if ((options.strict ?? true) && !isClean) throw new StateDictError(report);
  for (const [name, fileName] of plan) {
    const target = targets.get(name)!;
    const entry = await source.float32(fileName);
    loadTensorInto(target, { shape: target.shape, data: entry.data });
    report.loaded.push(name);
    options.onProgress?.(report.loaded.length, plan.length, name);
  }
  return report;
}
