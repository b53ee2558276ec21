import { formatShape } from "./_shapes.ts";
import { type LoraComponent, qualifiedName } from "./components.ts";
import type { LayerInfo, LayerTable } from "./layer_table.ts";
import type { LoraLoadReport, UnmatchedKey, UnmatchedReason } from "./load_report.ts";
import { type LoraFormat, type LoraRole, namesTwoTextEncoders, parseLoraKey } from "./lora_keys.ts";

/** One tensor of a LoRA file: its shape, and its values as float32 when they were read. */
export interface LoraEntry {
  shape: readonly number[];
  /** Absent for a layout-only check (names and shapes, e.g. of a shape-only model's adapter). */
  values?: Float32Array;
}

/** A tensor of a planned module, under the shape the adapter stores it in. */
export interface PlannedTensor {
  key: string;
  /** [r, in] / [out, r] for a Linear; [r, in, kH, kW] / [out, r, 1, 1] for a Conv2d. */
  shape: number[];
  values?: Float32Array;
}

/** A layer and the LoRA tensors that adapt it. */
export interface PlannedLoraModule {
  component: LoraComponent;
  path: string;
  layer: LayerInfo;
  rank: number;
  /** Network alpha (scale alpha/rank); null means scale 1. */
  alpha: number | null;
  down: PlannedTensor;
  up: PlannedTensor;
  alphaKey: string | null;
}

export interface PlanOptions {
  /** The component of keys that name none (PEFT files, bare diffusers keys). Default "unet". */
  defaultComponent?: LoraComponent;
  /** Alphas from a training config (PEFT `lora_alpha`, `alpha_pattern`); alpha tensors in the file win. */
  alphaOf?: (component: LoraComponent, path: string, rank: number) => number | null;
}

interface Group {
  component: LoraComponent;
  path: string;
  layer: LayerInfo;
  tensors: Partial<Record<LoraRole, { key: string; entry: LoraEntry }>>;
}

/**
 * Matches the keys of a LoRA file to layers: classifies each key, resolves its module through
 * the table (kohya names included), pairs down with up, and checks the shapes against the layer.
 * Every key ends up either in a planned module or in `report.unmatched` with its reason. With no
 * table, dotted module paths are taken as they are (format conversion) and kohya names cannot
 * be resolved.
 *
 * @example
 * ```ts
 * const { modules, report } = planLora(entries, LayerTable.fromModels(new Map([["unet", unet]])));
 * report.unmatched; // [] when every key found its layer
 * ```
 */
export function planLora(
  entries: ReadonlyMap<string, LoraEntry>,
  table: LayerTable | null,
  options: PlanOptions = {},
): { modules: PlannedLoraModule[]; report: LoraLoadReport } {
  const defaultComponent = options.defaultComponent ?? "unet";
  const unmatched: UnmatchedKey[] = [];
  const formats = new Set<LoraFormat>();
  const groups = new Map<string, Group>();
  const reject = (key: string, reason: UnmatchedReason, detail: string) => unmatched.push({ key, reason, detail });
  const isOneEncoderModel = table !== null && table.hasComponent("text_encoder") && !table.hasComponent("text_encoder_2");

  for (const [key, entry] of keysNativeFirst(entries)) {
    if (isOneEncoderModel && namesTwoTextEncoders(key)) {
      reject(key, "another architecture", "it names a text encoder of a model with two (SDXL); this model has one");
      continue;
    }
    const parsed = parseLoraKey(key);
    if (parsed.type === "other") {
      reject(key, "not a LoRA key", "no LoRA naming rule matches it");
      continue;
    }
    if (parsed.type === "unsupported") {
      reject(key, "unsupported", parsed.detail);
      continue;
    }
    formats.add(parsed.format);
    const component = parsed.component ?? defaultComponent;
    if (table && !table.hasComponent(component)) {
      reject(key, "unknown component", `it belongs to the ${component}, and no ${component} model was given`);
      continue;
    }
    const path = resolvePath(parsed.module, component, table);
    if (path === undefined) {
      const name = "kohya" in parsed.module ? parsed.module.kohya : parsed.module.dotted;
      const hint = table
        ? `the ${component} has no Linear or Conv2d named like "${name}"`
        : `kohya names need the model's module table to resolve "${name}"`;
      reject(key, "unknown module", hint);
      continue;
    }
    const id = qualifiedName(component, path);
    let group = groups.get(id);
    if (!group) {
      const layer = table?.layer(component, path) ?? { path, kind: "unknown", weightShape: null, groups: 1, layer: null };
      group = { component, path, layer, tensors: {} };
      groups.set(id, group);
    }
    const existing = group.tensors[parsed.role];
    if (existing) {
      reject(key, "duplicate", `"${existing.key}" already gave the ${parsed.role} tensor of ${id}`);
      continue;
    }
    group.tensors[parsed.role] = { key, entry };
  }

  const modules: PlannedLoraModule[] = [];
  for (const group of groups.values()) {
    const planned = planGroup(group, options, reject);
    if (planned) modules.push(planned);
  }
  return { modules, report: buildReport(entries.size, [...formats], modules, unmatched) };
}

/**
 * The entries with two-encoder (SDXL) keys last, so that when `lora_te1_x` and `lora_te_x` name
 * the same layer the model's own naming takes it and the other is the duplicate, whatever the order
 * of the file.
 */
function keysNativeFirst(entries: ReadonlyMap<string, LoraEntry>): [string, LoraEntry][] {
  const all = [...entries];
  return [...all.filter(([key]) => !namesTwoTextEncoders(key)), ...all.filter(([key]) => namesTwoTextEncoders(key))];
}

function resolvePath(
  module: { dotted: string } | { kohya: string },
  component: LoraComponent,
  table: LayerTable | null,
): string | undefined {
  if ("kohya" in module) return table?.resolveKohya(component, module.kohya);
  if (!table) return module.dotted;
  return table.layer(component, module.dotted) ? module.dotted : undefined;
}

type Reject = (key: string, reason: UnmatchedReason, detail: string) => void;

/** Pairs a group's down and up, checks them against the layer, reads the alpha. */
function planGroup(group: Group, options: PlanOptions, reject: Reject): PlannedLoraModule | null {
  const { down, up, alpha } = group.tensors;
  const id = qualifiedName(group.component, group.path);
  const rejectAll = (reason: UnmatchedReason, detail: string) => {
    for (const tensor of [down, up, alpha]) if (tensor) reject(tensor.key, reason, detail);
    return null;
  };
  if (!down || !up)
    return rejectAll(
      "rank pairing",
      `${id} has ${down ? "a down" : up ? "an up" : "an alpha"} tensor without ${down ? "its up" : "its down"}`,
    );
  if (group.layer.groups !== 1) return rejectAll("unsupported", `${id} is a grouped convolution (groups ${group.layer.groups})`);
  const shapes = fitShapes(group.layer, down.entry.shape, up.entry.shape);
  if (typeof shapes === "string") return rejectAll(shapes.startsWith("rank") ? "rank pairing" : "shape mismatch", `${id}: ${shapes}`);
  const rank = shapes.down[0];
  if (alpha && alpha.entry.shape.some((d) => d !== 1))
    return rejectAll("shape mismatch", `${id}: alpha must be a scalar, got ${formatShape(alpha.entry.shape)}`);
  const fileAlpha = alpha?.entry.values?.[0];
  // kohya writes alpha 0 for "no alpha": scale 1 (sd-scripts treats 0/None as alpha = rank)
  const alphaValue =
    fileAlpha !== undefined ? (fileAlpha === 0 ? null : fileAlpha) : (options.alphaOf?.(group.component, group.path, rank) ?? null);
  return {
    component: group.component,
    path: group.path,
    layer: group.layer,
    rank,
    alpha: alphaValue,
    down: { key: down.key, shape: shapes.down, values: down.entry.values },
    up: { key: up.key, shape: shapes.up, values: up.entry.values },
    alphaKey: alpha?.key ?? null,
  };
}

/**
 * The shapes the adapter stores for a layer, or why the file's shapes do not fit it. A Linear
 * takes [r, in] / [out, r] (also written [r, in, 1, 1] / [out, r, 1, 1] by kohya for 1×1
 * projections); a Conv2d takes [r, in, kH, kW] / [out, r, 1, 1] (or 2-D for a 1×1 kernel).
 */
function fitShapes(layer: LayerInfo, down: readonly number[], up: readonly number[]): { down: number[]; up: number[] } | string {
  const isMatrixLike = (s: readonly number[]) => s.length === 2 || (s.length === 4 && s[2] === 1 && s[3] === 1);
  if (down.length !== 2 && down.length !== 4) return `down has rank ${down.length}, expected 2 or 4 (${formatShape(down)})`;
  if (!isMatrixLike(up)) return `up must be [out, r] or [out, r, 1, 1], got ${formatShape(up)}`;
  if (down[0] !== up[1]) return `rank of down ${formatShape(down)} and up ${formatShape(up)} differ (${down[0]} and ${up[1]})`;
  const rank = down[0];
  if (layer.kind === "unknown" || !layer.weightShape) return { down: [...down], up: [...up] };
  const weight = layer.weightShape;
  const out = weight[0];
  if (layer.kind === "linear") {
    const expected = `down [${rank}, ${weight[1]}] and up [${out}, ${rank}] for Linear ${formatShape(weight)}`;
    if (!isMatrixLike(down) || down[1] !== weight[1] || up[0] !== out)
      return `expected ${expected}, got ${formatShape(down)} and ${formatShape(up)}`;
    return { down: [rank, weight[1]], up: [out, rank] };
  }
  const [, inChannels, kH, kW] = weight;
  const downFits =
    down.length === 4 ? down[1] === inChannels && down[2] === kH && down[3] === kW : kH === 1 && kW === 1 && down[1] === inChannels;
  if (!downFits || up[0] !== out) {
    return `expected down [${rank}, ${inChannels}, ${kH}, ${kW}] and up [${out}, ${rank}, 1, 1] for Conv2d ${formatShape(weight)}, got ${formatShape(down)} and ${formatShape(up)}`;
  }
  return { down: [rank, inChannels, kH, kW], up: [out, rank, 1, 1] };
}

function buildReport(tensorCount: number, formats: LoraFormat[], modules: PlannedLoraModule[], unmatched: UnmatchedKey[]): LoraLoadReport {
  const modulesByComponent: Partial<Record<LoraComponent, number>> = {};
  let matchedTensors = 0;
  let parameterCount = 0;
  for (const m of modules) {
    modulesByComponent[m.component] = (modulesByComponent[m.component] ?? 0) + 1;
    matchedTensors += m.alphaKey ? 3 : 2;
    parameterCount += m.down.shape.reduce((a, b) => a * b, 1) + m.up.shape.reduce((a, b) => a * b, 1);
  }
  return { formats, tensorCount, matchedTensors, matchedModules: modules.length, modulesByComponent, parameterCount, unmatched };
}
